/**
 * A short-lived cache of rendered seat maps, for the public read only (the seat inventory never reads it).
 *
 * Bounded memory, whatever the size of the hall: a render reads the map from the store in pieces (a
 * cursor) and compresses each piece as it comes, so neither the whole JSON text nor one object per seat
 * ever exists in the process. The cache keeps only the gzip bytes (a 200,000-seat map: about 10 MB instead of
 * 41 MB); clients that do not accept gzip get it decompressed on the fly, stream to socket. The ETag is a
 * hash of the uncompressed body, computed while rendering.
 *
 * Per session, one render serves every request for `ttlMs` after the request that started it; a render slower
 * than `ttlMs` is served for as long as it took. After that, the first request starts the next render and, if it
 * comes within half a `ttlMs`, requests keep getting the previous map until the next one is ready
 * (stale-while-revalidate), so a served map is at most 1.5 × `ttlMs` plus one render old (about two render
 * times for a map slower than that). Concurrent requests share one in-flight render
 * (single-flight), at most `maxRenders` renders run at once (others queue), and the cache holds at most
 * `maxEntries` sessions and `maxBytes` of compressed maps (least recently used evicted first).
 * `invalidate` drops a session's map (this process changed its seats), so the next request renders anew; a
 * render already reading when the write happened is not served to later requests. In a rush of writes (beyond a
 * burst of 4, more than `ownWriteRefreshesPerSecond` per session), later writes fall back to the ttlMs bound.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { createGunzip, createGzip, constants as zlibConstants } from 'node:zlib';
import type { SeatMapRenderer } from '../../domain/catalog';

export interface RenderedSeatMap {
  /** Strong ETag of the uncompressed JSON body, quoted. */
  etag: string;
  /** The JSON body, gzip-compressed (level 1): the only copy kept. */
  gzip: Buffer;
  /** Bytes of the uncompressed JSON body. */
  length: number;
}

export interface SeatMapCacheOptions {
  /** How long one render is served; 0 renders on every request. */
  ttlMs: number;
  /** Sessions kept at most (least recently used evicted). */
  maxEntries?: number;
  /** Compressed bytes kept at most (least recently used evicted; the newest map is always kept). */
  maxBytes?: number;
  /** Renders running at once; further renders wait for a free slot. */
  maxRenders?: number;
  /**
   * Per session, how many of this process's writes a second may drop its map at once, after a burst of
   * OWN_WRITE_REFRESH_BURST. Beyond, writes show within the time-to-live like anyone else's.
   */
  ownWriteRefreshesPerSecond?: number;
  now?: () => number;
}

export interface SeatMapCache {
  /** The rendered map of the session, or undefined when the session does not exist. */
  get(sessionId: string): Promise<RenderedSeatMap | undefined>;
  /** Forgets the session's map (also an in-flight render), so the next request sees this process's writes. */
  invalidate(sessionId: string): void;
  /** Sessions currently held (expired ones included until the next render sweeps them). */
  readonly size: number;
  /** Compressed bytes currently held (plus, per session being re-rendered, the previous map still served). */
  readonly bytes: number;
  /** Renders started so far (tests and the bench use it to see that readers share renders). */
  readonly renders: number;
}

interface Entry {
  rendered: Promise<RenderedSeatMap | undefined>;
  /** Undefined while the render is in flight. */
  expiresAt?: number;
  bytes: number;
  /** The render has begun reading (its snapshot may predate a later write). */
  started: boolean;
  /** When the render began reading and when it finished (now() clock). */
  startedAt?: number;
  finishedAt?: number;
  /** This process changed the session's seats after the render began: not to be served to new requests. */
  stale: boolean;
  /** While this render runs: the map it replaces, served meanwhile (it only outlived its time-to-live). */
  fallback?: Entry;
}

const MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** Own writes that refresh a session's map at once before the rate of ownWriteRefreshesPerSecond applies. */
const OWN_WRITE_REFRESH_BURST = 4;
/** A render slower than this (and than the time-to-live) marks a huge map: own writes refresh it less often. */
const HUGE_RENDER_MS = 1_000;

/** Renders one map through gzip, hashing the plain text on the way. Memory: one piece plus the output. */
export async function renderCompressed(
  renderer: SeatMapRenderer,
  sessionId: string,
): Promise<RenderedSeatMap | undefined> {
  const hash = createHash('sha1');
  const gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
  const output: Buffer[] = [];
  gzip.on('data', (chunk: Buffer) => output.push(chunk));
  const done = once(gzip, 'end');
  let length = 0;
  let exists: boolean;
  try {
    exists = await renderer(sessionId, async (piece) => {
      const bytes = Buffer.from(piece, 'utf8');
      hash.update(bytes);
      length += bytes.length;
      // Up to about two pieces wait for compression (off the main thread) while the next one is fetched.
      if (!gzip.write(bytes) && gzip.writableLength > MAX_PENDING_BYTES) await once(gzip, 'drain');
    });
  } catch (error) {
    gzip.destroy();
    throw error;
  }
  gzip.end();
  await done;
  if (!exists) return undefined;
  return { etag: `"${hash.digest('base64url')}"`, gzip: Buffer.concat(output), length };
}

/** The plain JSON body of a rendered map, decompressed as the reader consumes it. */
export function plainBody(map: RenderedSeatMap): Readable {
  return Readable.from([map.gzip], { objectMode: false }).pipe(createGunzip());
}

/** Per key, a bucket of `ratePerSecond` tokens a second holding at most `capacity`; at most `maxKeys` kept. */
function tokenBuckets(ratePerSecond: number, capacity: number, maxKeys: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key: string, at: number): boolean {
      const bucket = buckets.get(key) ?? { tokens: capacity, at };
      bucket.tokens = Math.min(capacity, bucket.tokens + ((at - bucket.at) / 1000) * ratePerSecond);
      bucket.at = at;
      buckets.delete(key);
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}

/** A counting semaphore: at most `slots` tasks run at once, the rest wait in arrival order. */
function limiter(slots: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= slots) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

export function createSeatMapCache(
  renderer: SeatMapRenderer,
  {
    ttlMs,
    maxEntries = 100,
    maxBytes = 64 * 1024 * 1024,
    maxRenders = 2,
    ownWriteRefreshesPerSecond = 1,
    now = Date.now,
  }: SeatMapCacheOptions,
): SeatMapCache {
  const entries = new Map<string, Entry>();
  const limit = limiter(maxRenders);
  const refreshes = tokenBuckets(ownWriteRefreshesPerSecond, OWN_WRITE_REFRESH_BURST, maxEntries);
  let renders = 0;
  let bytes = 0;

  /** Renders once `after` settled (one render per session at a time) and a render slot is free. */
  const renderNow = (sessionId: string, entry?: Entry, after?: Promise<unknown>) =>
    (after ?? Promise.resolve()).then(
      () => undefined,
      () => undefined,
    ).then(() =>
      limit(() => {
        renders += 1;
        if (entry) {
          entry.started = true;
          entry.startedAt = now();
        }
        return renderCompressed(renderer, sessionId);
      }),
    );

  const remove = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.bytes;
    entries.delete(key);
  };

  const sweep = (at: number) => {
    for (const [key, entry] of entries) if (entry.expiresAt !== undefined && entry.expiresAt <= at) remove(key);
    // Map iteration is insertion order, and every hit re-inserts: the first keys are the least recently used.
    for (const key of entries.keys()) {
      if (entries.size < maxEntries) break;
      remove(key);
    }
  };

  const keepWithinBytes = (newest: string) => {
    for (const key of entries.keys()) {
      if (bytes <= maxBytes) break;
      if (key !== newest) remove(key);
    }
  };

  return {
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
    get renders() {
      return renders;
    },
    invalidate(sessionId) {
      const entry = entries.get(sessionId);
      if (!entry) return;
      const inFlight = entry.expiresAt === undefined;
      // A render that has not started yet reads a snapshot taken after this write: it can still be shared.
      if (inFlight && !entry.started && !entry.fallback) return;
      const at = now();
      // A huge map (its render took over a second, and longer than ttlMs) is not re-rendered sooner than one render
      // time after the last one finished, so own writes cannot keep the process rendering all the time.
      if (entry.finishedAt !== undefined && entry.startedAt !== undefined) {
        const renderMs = entry.finishedAt - entry.startedAt;
        if (renderMs > Math.max(ttlMs, HUGE_RENDER_MS) && at < entry.finishedAt + renderMs) return;
      }
      // In a rush (many writes through this instance), the map goes back to the TTL bound instead of being
      // re-rendered for every write, so readers keep sharing renders and getting 304s.
      if (!refreshes.take(sessionId, at)) return;
      if (inFlight) {
        entry.fallback = undefined; // older than this write: readers wait for the render instead
        if (entry.started) entry.stale = true;
      } else remove(sessionId);
    },
    get(sessionId) {
      if (ttlMs <= 0) return renderNow(sessionId);
      const at = now();
      const cached = entries.get(sessionId);
      if (cached && !cached.stale && (cached.expiresAt === undefined || cached.expiresAt > at)) {
        entries.delete(sessionId);
        entries.set(sessionId, cached);
        return (cached.fallback ?? cached).rendered;
      }
      // Stale-while-revalidate: a map that merely outlived its time-to-live (by at most half of it) is served
      // while its successor renders, so readers do not wait for routine refreshes. Never a map this process's
      // own write made stale.
      const fallback =
        cached && !cached.stale && cached.expiresAt !== undefined && at <= cached.expiresAt + ttlMs / 2 ? cached : undefined;
      // A stale render still in flight finishes for its own readers; the new one starts after it, so under a
      // stream of writes a session has at most one render running and one waiting.
      const inFlight = cached && cached.expiresAt === undefined ? cached.rendered : undefined;
      remove(sessionId);
      sweep(at);
      const entry: Entry = { rendered: Promise.resolve(undefined), bytes: 0, started: false, stale: false, fallback };
      entry.rendered = renderNow(sessionId, entry, inFlight);
      entries.set(sessionId, entry);
      entry.rendered.then(
        (map) => {
          entry.fallback = undefined;
          if (entries.get(sessionId) !== entry) return; // replaced or evicted meanwhile
          if (!map) {
            entries.delete(sessionId);
            return;
          }
          // Served until ttlMs after the request that started the render; a render that took longer than that
          // (a map of hundreds of thousands of seats) is served for as long as it took, so continuous readers
          // keep this process rendering at most half the time.
          const finishedAt = now();
          entry.finishedAt = finishedAt;
          entry.expiresAt = Math.max(at + ttlMs, finishedAt + (finishedAt - (entry.startedAt ?? finishedAt)));
          entry.bytes = map.gzip.length;
          bytes += entry.bytes;
          if (entry.stale) remove(sessionId);
          else keepWithinBytes(sessionId);
        },
        () => {
          entry.fallback = undefined;
          if (entries.get(sessionId) === entry) entries.delete(sessionId);
        },
      );
      return (fallback ?? entry).rendered;
    },
  };
}
