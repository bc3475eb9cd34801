import Koa, { type Context, type Next } from 'koa';
import { createLogger, startHttpServer } from '@ticketing/platform';
import { apiTargetFor } from './api-routing';
import { loadWebConfig } from './config';
import { proxyTo } from './proxy';
import { serveStatic } from './static-files';

/**
 * The app's own pages may load only what this origin serves; the API calls go to this origin too (the proxy),
 * so `connect-src 'self'` is enough. Ticket QR codes arrive as data: URLs; the door page's camera preview is a
 * blob-free <video> element.
 */
export const WEB_APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "media-src 'self' blob:",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function pageHeaders() {
  return async function setPageHeaders(ctx: Context, next: Next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', WEB_APP_CONTENT_SECURITY_POLICY);
    ctx.set('Permissions-Policy', 'camera=(self), microphone=(), geolocation=()');
    await next();
  };
}

export interface RunningWebServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts the web server: `/api/v1/...` proxied to the event or booking API, everything else the built app. */
export async function startWebServer(overrides: Record<string, unknown> = {}): Promise<RunningWebServer> {
  const config = loadWebConfig(overrides);
  const logger = createLogger('web-app', config.LOG_LEVEL);
  const targets = { event: new URL(config.EVENT_API_URL), booking: new URL(config.BOOKING_API_URL) };
  const app = new Koa();
  app.use(async (ctx, next) => {
    const target = apiTargetFor(ctx.path);
    if (target) return proxyTo(targets[target], ctx);
    return next();
  });
  app.use(pageHeaders());
  app.use(async (ctx) => {
    if (ctx.path === '/health') {
      ctx.body = { status: 'ok', service: 'web-app' };
      return;
    }
    if (await serveStatic(config.STATIC_DIR, ctx)) return;
    ctx.status = 404;
    ctx.type = 'text/plain';
    ctx.body = 'Not found';
  });
  app.on('error', (error: Error) => logger.error({ err: error }, 'web request failed'));
  const server = await startHttpServer(app, config.PORT, config.HOST);
  logger.info({ url: server.url, event_api: config.EVENT_API_URL, booking_api: config.BOOKING_API_URL }, 'web app listening');
  return { url: server.url, stop: () => server.close(2_000) };
}
