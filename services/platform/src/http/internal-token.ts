import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { unauthorized } from '../errors';

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
