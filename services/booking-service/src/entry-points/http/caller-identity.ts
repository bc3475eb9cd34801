import type { Context } from 'koa';
import { callerOf, requireCaller, type Identity } from '@ticketing/platform';

/**
 * Module guard naming the caller through the platform's identity (X-User-ID in development's header mode,
 * a verified bearer JWT otherwise): sets ctx.state.caller = { userId, roles }, and ctx.state.userId as before.
 */
export function callerGuard(identity: Identity) {
  const authenticate = requireCaller(identity);
  return async (ctx: Context) => {
    await authenticate(ctx);
    ctx.state.userId = callerOf(ctx).userId;
  };
}

/** The caller named by the guard. */
export const callerId = (ctx: Context): string => callerOf(ctx).userId;
