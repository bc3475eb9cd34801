import type { Context } from 'koa';
import { callerOf, requireCaller, type Identity } from '@ticketing/platform';

/**
 * Module guard naming the caller through the platform's identity (X-User-ID in development's header mode,
 * a verified bearer JWT otherwise); sets ctx.state.caller = { userId, roles }.
 */
export const callerGuard = (identity: Identity) => requireCaller(identity);

/** The caller named by the guard. */
export const callerId = (ctx: Context): string => callerOf(ctx).userId;
