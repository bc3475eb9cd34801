import { trace } from '@opentelemetry/api';
import type { Context, Next } from 'koa';
import { tracingEnabled } from '../spans';

/**
 * Names the HTTP server span after the matched route (`POST /api/v1/reservations/:id/confirm`) and sets
 * `http.route`, which Koa's instrumentation did at the price of a span per middleware and an exception
 * event for every conflict. The active span here is the HTTP instrumentation's server span: nothing of
 * ours starts a span before the router.
 */
export function traceRoute() {
  return async function nameServerSpan(ctx: Context, next: Next): Promise<void> {
    if (!tracingEnabled()) return next();
    const span = trace.getActiveSpan();
    try {
      await next();
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
      if (span && typeof route === 'string') {
        span.setAttribute('http.route', route);
        span.updateName(`${ctx.method} ${route}`);
      }
    }
  };
}

/** A failure (5xx, an exception) on the request's server span; answers such as a 409 are not recorded. */
export function recordRequestFailure(error: unknown): void {
  if (!tracingEnabled()) return;
  trace.getActiveSpan()?.recordException(error instanceof Error ? error : String(error));
}
