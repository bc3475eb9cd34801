/**
 * A short-lived cache of rendered seat maps, for the public read only (the seat inventory never reads it).
 *
 * Per session, one render (one Postgres query) serves every request for `ttlMs` after the render started,
 * so a served map is never older than `ttlMs`. Concurrent requests share one in-flight render
 * (single-flight). The ETag is computed once per render and the gzip copy at most once per render (on the
 * first request that accepts gzip). The cache holds at most `maxEntries` sessions (least recently used
 * evicted first) and drops expired entries whenever it renders, so memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback, constants as zlibConstants } from 'node:zlib';

const gzipAsync = promisify(gzipCallback);

export interface RenderedSeatMap {
  /** The JSON body, UTF-8. */
  body: Buffer;
  /** Strong ETag of the body, quoted. */
  etag: string;
  /** The body gzip-compressed (level 1), computed once on first use. */
  gzip(): Promise<Buffer>;
}

export interface SeatMapCacheOptions {
  /** How long one render is served; 0 renders on every request. */
  ttlMs: number;
  /** Sessions kept at most (least recently used evicted). */
  maxEntries?: number;
  now?: () => number;
}

export interface SeatMapCache {
  /** The rendered map of the session, or undefined when the session does not exist. */
  get(sessionId: string): Promise<RenderedSeatMap | undefined>;
  /** Sessions currently held (expired ones included until the next render sweeps them). */
  readonly size: number;
}

interface Entry {
  rendered: Promise<RenderedSeatMap | undefined>;
  /** Undefined while the render is in flight. */
  expiresAt?: number;
}

export function renderSeatMap(json: string): RenderedSeatMap {
  const body = Buffer.from(json, 'utf8');
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  let compressed: Promise<Buffer> | undefined;
  return {
    body,
    etag,
    gzip: () => (compressed ??= gzipAsync(body, { level: zlibConstants.Z_BEST_SPEED })),
  };
}

export function createSeatMapCache(
  render: (sessionId: string) => Promise<string | undefined>,
  { ttlMs, maxEntries = 100, now = Date.now }: SeatMapCacheOptions,
): SeatMapCache {
  const entries = new Map<string, Entry>();

  const renderNow = async (sessionId: string) => {
    const json = await render(sessionId);
    return json === undefined ? undefined : renderSeatMap(json);
  };

  const sweep = (at: number) => {
    for (const [key, entry] of entries) if (entry.expiresAt !== undefined && entry.expiresAt <= at) entries.delete(key);
    // Map iteration is insertion order, and every hit re-inserts: the first keys are the least recently used.
    for (const key of entries.keys()) {
      if (entries.size < maxEntries) break;
      entries.delete(key);
    }
  };

  return {
    get size() {
      return entries.size;
    },
    get(sessionId) {
      if (ttlMs <= 0) return renderNow(sessionId);
      const at = now();
      const cached = entries.get(sessionId);
      if (cached && (cached.expiresAt === undefined || cached.expiresAt > at)) {
        entries.delete(sessionId);
        entries.set(sessionId, cached);
        return cached.rendered;
      }
      entries.delete(sessionId);
      sweep(at);
      const entry: Entry = { rendered: renderNow(sessionId) };
      entries.set(sessionId, entry);
      entry.rendered.then(
        (map) => {
          // Served until ttlMs after the render started, so no answer is older than ttlMs.
          if (map && entries.get(sessionId) === entry) entry.expiresAt = at + ttlMs;
          else if (entries.get(sessionId) === entry) entries.delete(sessionId);
        },
        () => {
          if (entries.get(sessionId) === entry) entries.delete(sessionId);
        },
      );
      return entry.rendered;
    },
  };
}
