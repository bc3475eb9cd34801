import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves a file of the built front end, or index.html for `/`. Paths are resolved inside `root` only
 * (no `..` escape); hashed assets are cached for a year, index.html never (so a new build shows at once).
 * Returns false when there is no such file.
 */
export async function serveStatic(root: string, ctx: Context): Promise<boolean> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return false;
  let relative: string;
  try {
    relative = decodeURIComponent(ctx.path);
  } catch {
    return false;
  }
  if (relative.includes('\0')) return false;
  const file = path.resolve(root, `.${relative === '/' ? '/index.html' : relative}`);
  if (file !== root && !file.startsWith(root + path.sep)) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
  ctx.length = info.size;
  ctx.set('Cache-Control', relative.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
  ctx.body = ctx.method === 'HEAD' ? null : createReadStream(file);
  return true;
}
