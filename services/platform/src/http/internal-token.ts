import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { unauthorized } from '../errors';
import type { AnyRoute, ApiModule } from './route';

export const INTERNAL_TOKEN_HEADER = 'X-Internal-Token';
export const INTERNAL_TOKEN_SCHEME = 'internalToken';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Service-to-service calls (/api/internal/* of both services). When a token is configured, requests must
 * present it in X-Internal-Token; compared in constant time.
 */
export function internalTokenGuard(token: string | undefined) {
  if (!token) return undefined;
  const expected = digest(token);
  return (ctx: Context) => {
    const presented = ctx.get(INTERNAL_TOKEN_HEADER);
    if (!presented || !timingSafeEqual(digest(presented), expected)) {
      throw unauthorized(`Missing or invalid ${INTERNAL_TOKEN_HEADER} header`, 'INVALID_INTERNAL_TOKEN');
    }
  };
}

/** Routes for other services under /api/internal, guarded by the internal token (when one is configured). */
export function internalApiModule(internalToken: string | undefined, routes: AnyRoute[]): ApiModule {
  return { prefix: '/api/internal', guard: internalTokenGuard(internalToken), security: [INTERNAL_TOKEN_SCHEME], internal: true, routes };
}
