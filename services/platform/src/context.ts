import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from '@opentelemetry/api';

/**
 * Per-request (or per-message) context carried through async calls: the request id the logger reads and,
 * with tracing on, OpenTelemetry's active context (see tracing-context.ts). One AsyncLocalStorage for both:
 * every further one would add its own work to every promise the process creates, sampled or not.
 */
export interface RequestContext {
  requestId?: string;
  /** OpenTelemetry's active context; only set while tracing is on. */
  trace?: Context;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export const currentRequestId = (): string | undefined => requestContext.getStore()?.requestId;

/** Runs `work` with `requestId` as the request id, keeping the active trace context. */
export function runWithRequestId<T>(requestId: string, work: () => T): T {
  return requestContext.run({ ...requestContext.getStore(), requestId }, work);
}
