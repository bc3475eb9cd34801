import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request (or per-message) context carried through async calls, read by the logger. */
export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export const currentRequestId = (): string | undefined => requestContext.getStore()?.requestId;
