/**
 * The seat changes of each session as a Redis Stream (`<prefix><session id>`): one entry per committed write,
 * appended after the commit (XADD, trimmed to about `retained` entries, the key expiring a day after the last
 * change). The entry id (`<ms>-<seq>`) orders the changes and is the live stream's version.
 */
import { Redis } from 'ioredis';
import type { Logger } from '@ticketing/platform';
import type { EntryId, StoredChanges, StreamBounds } from '../domain/live-seat-map-ports';
import type { SeatChangeFeed, SeatStateChange } from '../domain/seat-changes';

const KEY_TTL_SECONDS = 86_400;
const KEY_TTL_REFRESH_MS = 600_000;
const FIELD = 'c';

/** Compares two entry ids numerically. */
export function compareEntryIds(a: EntryId, b: EntryId): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/**
 * The version (SSE id) of an entry: a number, as clients compare versions. Exact while a session gets fewer than
 * 1,000 changes in one millisecond; beyond, later entries of that millisecond share a version (resuming from it
 * repeats them, which is harmless).
 */
export function versionOfEntryId(id: EntryId): number {
  const [ms, seq] = id.split('-').map(Number);
  return ms * 1000 + Math.min(seq, 999);
}

/** The entry id a Last-Event-ID names; undefined when it is not a version. */
export function entryIdOfVersion(version: string): EntryId | undefined {
  if (!/^\d{1,16}$/.test(version)) return undefined;
  const value = Number(version);
  if (!Number.isSafeInteger(value)) return undefined;
  return `${Math.floor(value / 1000)}-${value % 1000}`;
}

function parseEntry([id, fields]: [string, string[]]): StoredChanges {
  const index = fields.indexOf(FIELD);
  try {
    const body = JSON.parse(fields[index + 1]) as { t: number; seats: SeatStateChange[] };
    return { id, changes: Array.isArray(body.seats) ? body.seats : [], publishedAt: Number(body.t) || 0 };
  } catch {
    return { id, changes: [], publishedAt: 0 };
  }
}

export interface SeatChangeStreamOptions {
  url: string;
  keyPrefix: string;
  retained: number;
  logger: Logger;
  /** Counts publications Redis did not take (the change is lost for live maps until the seat changes again). */
  onPublishFailure?: () => void;
  /** Publications of this long are sent together (default 10 ms). */
  flushAfterMs?: number;
}

/** Commands that must not queue while Redis is away: they fail at once, and a slow Redis is cut off. */
const redisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  lazyConnect: true,
} as const;

export function openSeatChangeStream(options: SeatChangeStreamOptions) {
  const redis = new Redis(options.url, { ...redisOptions, commandTimeout: 2_000 });
  let lastWarning = 0;
  redis.on('error', (error: Error) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn({ err: error }, 'Redis error (seat-map stream)');
  });
  const connected = redis.connect().catch((error: unknown) => options.logger.warn({ err: error }, 'Redis not reachable yet (seat-map stream)'));
  const keyOf = (sessionId: string) => `${options.keyPrefix}${sessionId}`;
  const sessionOf = (key: string) => key.slice(options.keyPrefix.length);

  /** When this process last pushed each key's expiry out (refreshed at most every KEY_TTL_REFRESH_MS). */
  const expiryRefreshed = new Map<string, number>();
  const expiryDue = (key: string, at: number) => {
    const last = expiryRefreshed.get(key);
    if (last !== undefined && at - last < KEY_TTL_REFRESH_MS) return false;
    expiryRefreshed.delete(key);
    expiryRefreshed.set(key, at);
    if (expiryRefreshed.size > 10_000) expiryRefreshed.delete(expiryRefreshed.keys().next().value as string);
    return true;
  };

  const failed = (error: unknown, count: number) => {
    for (let i = 0; i < count; i += 1) options.onPublishFailure?.();
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn({ err: error, changes: count }, 'Seat changes not published to the live seat map');
  };

  // Publications wait up to `flushAfterMs` and go out together in one pipeline: one write and one reply for a
  // handful of writes, instead of a Redis round trip (~0.1 ms of CPU here) per hold.
  let queued: Array<{ key: string; body: string; at: number }> = [];
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): Promise<void> => {
    flushTimer = undefined;
    const batch = queued;
    queued = [];
    const pipeline = redis.pipeline();
    for (const { key, body, at } of batch) {
      pipeline.xadd(key, 'MAXLEN', '~', String(options.retained), '*', FIELD, body);
      if (expiryDue(key, at)) pipeline.expire(key, KEY_TTL_SECONDS);
    }
    return connected
      .then(() => pipeline.exec())
      .then((results) => {
        const errors = (results ?? []).filter(([error]) => error);
        if (errors.length) failed(errors[0][0], errors.length);
      })
      .catch((error: unknown) => failed(error, batch.length));
  };

  const feed: SeatChangeFeed = {
    publish(sessionId, changes) {
      if (!changes.length) return;
      const at = Date.now();
      queued.push({ key: keyOf(sessionId), body: JSON.stringify({ t: at, seats: changes }), at });
      flushTimer ??= setTimeout(() => void flush(), options.flushAfterMs ?? 10);
    },
  };

  /** A second connection for blocking reads (XREAD BLOCK holds its connection), opened on first use. */
  let reader: Redis | undefined;
  let readerId: number | undefined;
  const blockingReader = async () => {
    if (!reader) {
      reader = new Redis(options.url, redisOptions);
      reader.on('error', () => undefined); // reported through the failing reads
      reader.on('ready', () => {
        readerId = undefined;
      });
      await reader.connect();
    }
    readerId ??= Number(await reader.client('ID'));
    return reader;
  };

  return {
    feed,
    async bounds(sessionId: string): Promise<StreamBounds> {
      await connected;
      try {
        const info = (await redis.xinfo('STREAM', keyOf(sessionId))) as unknown[];
        const field = (name: string) => String(info[info.indexOf(name) + 1]);
        const first = info[info.indexOf('first-entry') + 1] as [string, string[]] | null;
        return { last: field('last-generated-id'), maxDeleted: field('max-deleted-entry-id'), first: first?.[0], exists: true };
      } catch (error) {
        if (/no such key/i.test((error as Error).message)) return { last: '0-0', maxDeleted: '0-0', exists: false };
        throw error;
      }
    },
    /** Entries after `after`, oldest first (at most `count`). */
    async after(sessionId: string, after: EntryId, count: number): Promise<StoredChanges[]> {
      await connected;
      const entries = (await redis.xrange(keyOf(sessionId), `(${after}`, '+', 'COUNT', count)) as Array<[string, string[]]>;
      return entries.map(parseEntry);
    },
    /**
     * Waits up to `blockMs` for entries after each session's cursor; what arrived, per session. An empty map on
     * timeout or `interrupt()`.
     */
    async read(cursors: Map<string, EntryId>, blockMs: number, count: number): Promise<Map<string, StoredChanges[]>> {
      const connection = await blockingReader();
      const keys = [...cursors.keys()];
      const answer = (await connection.xread(
        'COUNT',
        count,
        'BLOCK',
        blockMs,
        'STREAMS',
        ...keys.map(keyOf),
        ...keys.map((key) => cursors.get(key)!),
      )) as Array<[string, Array<[string, string[]]>]> | null;
      return new Map((answer ?? []).map(([key, entries]) => [sessionOf(key), entries.map(parseEntry)]));
    },
    /** Ends a blocking read now (the set of sessions to read changed). */
    async interrupt(): Promise<void> {
      if (readerId === undefined) return;
      await redis.client('UNBLOCK', readerId).catch(() => undefined);
    },
    async ping(): Promise<void> {
      await connected;
      await redis.ping();
    },
    async close(): Promise<void> {
      if (flushTimer) {
        clearTimeout(flushTimer);
        await flush();
      }
      reader?.disconnect();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

