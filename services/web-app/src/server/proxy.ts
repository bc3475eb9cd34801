import http from 'node:http';
import https from 'node:https';
import type { Context } from 'koa';

// Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection, not the message: never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function forwardableHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
  return out;
}

/**
 * Streams the request to `base` + the same path and streams the answer back unchanged (status, headers, body),
 * so Server-Sent Events and gzip bodies pass through as they are. The client's address is appended to
 * X-Forwarded-For; an unreachable API answers the contract's JSON error with 502.
 */
export function proxyTo(base: URL, ctx: Context): Promise<void> {
  const target = new URL(ctx.originalUrl, base);
  const client = target.protocol === 'https:' ? https : http;
  const headers = forwardableHeaders(ctx.req.headers);
  const forwardedFor = ctx.req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = [forwardedFor, ctx.req.socket.remoteAddress].filter(Boolean).join(', ');
  ctx.respond = false;
  return new Promise((resolve) => {
    const upstream = client.request(target, { method: ctx.method, headers }, (answer) => {
      const responseHeaders = forwardableHeaders(answer.headers);
      ctx.res.writeHead(answer.statusCode ?? 502, responseHeaders);
      // Server-Sent Events must reach the browser as they are written.
      ctx.res.flushHeaders();
      answer.pipe(ctx.res);
      answer.once('end', resolve);
      answer.once('error', () => {
        ctx.res.destroy();
        resolve();
      });
    });
    upstream.once('error', () => {
      if (!ctx.res.headersSent) {
        ctx.res.writeHead(502, { 'content-type': 'application/json' });
        ctx.res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'The API is unreachable; try again shortly' } }));
      } else ctx.res.destroy();
      resolve();
    });
    // A browser that goes away (closed tab, dropped stream) ends the upstream request too.
    ctx.res.once('close', () => {
      upstream.destroy();
      resolve();
    });
    ctx.req.pipe(upstream);
  });
}
