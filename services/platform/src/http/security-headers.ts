import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';

/**
 * An API answers JSON only: nothing in it may load, run or frame anything. Swagger UI (/docs) gets its own
 * policy from `docsContentSecurityPolicy`.
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Headers on every response, errors included: no MIME sniffing, no framing (CSP frame-ancestors for current
 * browsers, X-Frame-Options for old ones), no Referer leaking ids in URLs to other sites.
 */
export function securityHeaders() {
  return async function setSecurityHeaders(ctx: Context, next: Next) {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', API_CONTENT_SECURITY_POLICY);
    await next();
  };
}

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi;

/**
 * The Swagger UI page: its scripts and styles come from this process; its one inline bootstrap script is
 * allowed by hash (so no 'unsafe-inline' for scripts); Swagger UI sets style attributes and uses data: images.
 */
export function docsContentSecurityPolicy(html: string): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map(
    ([, script]) => `'sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}'`,
  );
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}
