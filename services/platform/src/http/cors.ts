import type { Context, Next } from 'koa';
import { AppError, errorBody } from '../errors';

const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ALLOWED_HEADERS = 'Authorization, Content-Type, Idempotency-Key, X-User-ID, X-Request-ID';
const EXPOSED_HEADERS = 'Retry-After, X-Request-ID';
const PREFLIGHT_CACHE_SECONDS = '600';

/**
 * CORS by allow-list. With no allowed origins (the default) no response carries CORS headers, so browsers
 * keep other sites from reading any answer, and preflights from any origin are refused. A listed origin gets
 * its preflight answered (204) and may read responses. Credentials (cookies) are never involved: identity
 * travels in headers.
 */
export function cors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return async function applyCors(ctx: Context, next: Next) {
    const origin = ctx.get('origin');
    const preflight = ctx.method === 'OPTIONS' && Boolean(ctx.get('access-control-request-method'));
    if (allowed.size > 0) ctx.vary('Origin');
    if (!origin) return next();
    if (!allowed.has(origin)) {
      if (!preflight) return next();
      ctx.status = 403;
      ctx.body = errorBody(new AppError(403, 'CORS_ORIGIN_NOT_ALLOWED', 'This origin may not call the API', { origin }));
      return;
    }
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (!preflight) return next();
    ctx.set('Access-Control-Allow-Methods', ALLOWED_METHODS);
    ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    ctx.set('Access-Control-Max-Age', PREFLIGHT_CACHE_SECONDS);
    ctx.status = 204;
  };
}
