/**
 * The live seat map of one API replica: Server-Sent Events subscribers per session, fed from the sessions' change
 * streams (whichever replica or consumer wrote) through ONE blocking read for all sessions with local subscribers.
 *
 * A subscriber gets, in order: a `snapshot` (the seat map and its version) unless it resumes with a Last-Event-ID
 * the stream still covers; then every change after that version (`seats` events, id = version). Snapshot
 * consistency: the stream's newest id V is read BEFORE the map, so the map holds every change up to V; changes
 * after V are sent even if the map already shows them (each carries the seat's full state, so a repeat is
 * harmless). One snapshot per session is shared by the subscribers that join within `snapshotReuseMs`.
 *
 * Each event is encoded once and the same bytes are written to every subscriber. A subscriber whose socket does
 * not drain (more than `bufferBytes` waiting beyond its snapshot) is dropped; it reconnects with Last-Event-ID.
 */
import { AppError } from '@ticketing/platform';
import {
  resumable,
  type ChangeStreams,
  type EntryId,
  type EntryIds,
  type LiveSeatMapObserver,
  type LiveSeatMapSettings,
  type StoredChanges,
  type StreamSink,
} from './live-seat-map-ports';
import type { SeatMapRenderer } from './catalog';
import { HEARTBEAT_FRAME, seatsFrame, snapshotFrame } from './seat-map-events';

export type {
  ChangeStreams,
  EntryId,
  EntryIds,
  LiveSeatMapObserver,
  LiveSeatMapSettings,
  StoredChanges,
  StreamSink,
} from './live-seat-map-ports';
export { resumable } from './live-seat-map-ports';

interface Snapshot {
  id: EntryId;
  frame: Buffer;
}

interface Subscriber {
  sink: StreamSink;
  /** Live frames that arrived while the subscriber was catching up; undefined once live. */
  waiting?: Array<{ id: EntryId; frame: Buffer }>;
  lastSent: EntryId;
  /** Bytes of its snapshot still allowed in the buffer (cleared on the first drain). */
  allowance: number;
}

interface SessionFeed {
  subscribers: Set<Subscriber>;
  /** Last entry the shared read has taken; undefined until the first subscriber caught up. */
  cursor?: EntryId;
  snapshot?: { at: number; promise: Promise<Snapshot | undefined> };
}

/** Bounds how long a new session waits for the shared read should its interrupt miss the read it meant. */
const BLOCK_MS = 1_000;
const READ_COUNT = 1_000;
/** Gathering time per fan-out: 50 µs per subscriber (2,000 subscribers: 100 ms), at most MAX_GATHER_MS. */
const GATHER_MS_PER_SUBSCRIBER = 0.05;
const MAX_GATHER_MS = 100;
/** Subscribers written to between two turns of the event loop (each write is a system call). */
const YIELD_EVERY_SUBSCRIBERS = 200;

export function createLiveSeatMap(deps: {
  streams: ChangeStreams;
  ids: EntryIds;
  render: SeatMapRenderer;
  settings: LiveSeatMapSettings;
  observer: LiveSeatMapObserver;
  now?: () => number;
}) {
  const { streams, ids, settings, observer } = deps;
  const now = deps.now ?? Date.now;
  const snapshotReuseMs = settings.snapshotReuseMs ?? 1_000;
  const maxCatchUp = settings.maxCatchUp ?? 5_000;
  const feeds = new Map<string, SessionFeed>();
  let subscriberCount = 0;
  let reading: Promise<void> | undefined;
  let closed = false;

  const send = (sessionId: string, subscriber: Subscriber, frame: Buffer) => {
    if (subscriber.sink.buffered() > settings.bufferBytes + subscriber.allowance) {
      observer.dropped('slow');
      remove(sessionId, subscriber);
      subscriber.sink.end();
      return;
    }
    subscriber.sink.write(frame);
  };

  const remove = (sessionId: string, subscriber: Subscriber) => {
    const feed = feeds.get(sessionId);
    if (!feed?.subscribers.delete(subscriber)) return;
    subscriberCount -= 1;
    if (!feed.subscribers.size) feeds.delete(sessionId);
  };

  const snapshotOf = (sessionId: string, feed: SessionFeed): Promise<Snapshot | undefined> => {
    if (feed.snapshot && now() - feed.snapshot.at < snapshotReuseMs) return feed.snapshot.promise;
    const promise = (async () => {
      const { last } = await streams.bounds(sessionId); // before the map: the map holds every change up to it
      const pieces: string[] = [];
      const exists = await deps.render(sessionId, async (piece) => {
        pieces.push(piece);
      });
      return exists ? { id: last, frame: snapshotFrame(ids.version(last), pieces.join('')) } : undefined;
    })();
    const entry = { at: now(), promise };
    feed.snapshot = entry;
    const forget = () => {
      if (feed.snapshot === entry) feed.snapshot = undefined;
    };
    // Kept only while it may be reused: a big hall's map is megabytes.
    promise.then(() => setTimeout(forget, snapshotReuseMs).unref(), forget);
    return promise;
  };

  /** Fans one batch of a session's entries out to its subscribers: one write per subscriber for the batch. */
  const deliver = async (sessionId: string, feed: SessionFeed, entries: StoredChanges[]) => {
    const frames = entries.map((entry) => ({ id: entry.id, frame: seatsFrame(ids.version(entry.id), entry.changes) }));
    const batch = frames.length === 1 ? frames[0].frame : Buffer.concat(frames.map(({ frame }) => frame));
    const first = frames[0].id;
    const last = frames[frames.length - 1].id;
    let sent = 0;
    let written = 0;
    for (const subscriber of [...feed.subscribers]) {
      // Requests (holds, the seat map) are served between slices instead of waiting for the whole fan-out.
      if (++written % YIELD_EVERY_SUBSCRIBERS === 0) await new Promise((resolve) => setImmediate(resolve));
      if (!feed.subscribers.has(subscriber)) continue; // left meanwhile
      if (subscriber.waiting) {
        subscriber.waiting.push(...frames);
      } else if (ids.compare(first, subscriber.lastSent) > 0) {
        subscriber.lastSent = last;
        send(sessionId, subscriber, batch);
        sent += frames.length;
      } else {
        // Joined within this batch: only what it has not had.
        const unseen = frames.filter(({ id }) => ids.compare(id, subscriber.lastSent) > 0);
        if (!unseen.length) continue;
        subscriber.lastSent = last;
        send(sessionId, subscriber, Buffer.concat(unseen.map(({ frame }) => frame)));
        sent += unseen.length;
      }
    }
    observer.sent('seats', sent);
    const at = now();
    for (const entry of entries) if (entry.publishedAt) observer.lag(Math.max(0, at - entry.publishedAt) / 1000);
  };

  const readLoop = async () => {
    while (!closed) {
      const cursors = new Map<string, EntryId>();
      for (const [sessionId, feed] of feeds) if (feed.cursor !== undefined) cursors.set(sessionId, feed.cursor);
      if (!cursors.size) return;
      let batches: Map<string, StoredChanges[]>;
      try {
        batches = await streams.read(cursors, BLOCK_MS, READ_COUNT);
      } catch (error) {
        if (closed) return;
        observer.readFailed(error);
        // Changes published meanwhile may be lost: the clients reconnect (a 503 while Redis is away makes the
        // page poll; afterwards they resume or get a fresh snapshot).
        endAll();
        return;
      }
      for (const [sessionId, entries] of batches) {
        const feed = feeds.get(sessionId);
        if (!feed || !entries.length) continue;
        feed.cursor = entries[entries.length - 1].id;
        await deliver(sessionId, feed, entries);
      }
      // With many subscribers, changes are gathered for a moment so each subscriber gets one write per batch
      // instead of one per change (a socket write costs tens of microseconds of CPU).
      const pause = Math.min(MAX_GATHER_MS, subscriberCount * GATHER_MS_PER_SUBSCRIBER);
      if (batches.size && pause >= 1) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  };

  const endAll = () => {
    for (const feed of feeds.values()) {
      for (const subscriber of feed.subscribers) subscriber.sink?.end();
      feed.subscribers.clear();
    }
    feeds.clear();
    subscriberCount = 0;
  };

  const ensureReading = () => {
    if (reading) {
      void streams.interrupt(); // the running read does not cover the new session yet
      return;
    }
    reading = readLoop().finally(() => {
      reading = undefined;
      if (!closed && [...feeds.values()].some((feed) => feed.cursor !== undefined)) ensureReading();
    });
  };

  const heartbeat = setInterval(() => {
    for (const [sessionId, feed] of feeds) {
      for (const subscriber of [...feed.subscribers]) if (!subscriber.waiting) send(sessionId, subscriber, HEARTBEAT_FRAME);
    }
  }, settings.heartbeatMs);
  heartbeat.unref();

  return {
    get subscribers() {
      return subscriberCount;
    },
    /**
     * Prepares a subscription (snapshot and catch-up), then calls `open` for the sink and starts the stream.
     * Throws 404 for an unknown session and 503 when this replica is full; a failing Redis rejects.
     */
    async subscribe(sessionId: string, lastEventId: string | undefined, open: () => StreamSink | undefined): Promise<void> {
      if (closed || subscriberCount >= settings.maxSubscribers) {
        throw new AppError(503, 'STREAM_FULL', 'Too many live seat-map subscribers on this server; poll the seat map instead');
      }
      let feed = feeds.get(sessionId);
      if (!feed) feeds.set(sessionId, (feed = { subscribers: new Set() }));
      const subscriber: Subscriber = { sink: undefined as unknown as StreamSink, waiting: [], lastSent: '0-0', allowance: 0 };
      feed.subscribers.add(subscriber);
      subscriberCount += 1;
      try {
        let from = lastEventId ? ids.fromVersion(lastEventId) : undefined;
        if (from && !resumable(from, await streams.bounds(sessionId), ids.compare)) from = undefined;
        let snapshot: Snapshot | undefined;
        if (!from) {
          snapshot = await snapshotOf(sessionId, feed);
          if (!snapshot) throw new AppError(404, 'NOT_FOUND', `Session ${sessionId} not found`);
          from = snapshot.id;
        }
        let catchUp = await streams.after(sessionId, from, maxCatchUp + 1);
        if (catchUp.length > maxCatchUp && !snapshot) {
          snapshot = await snapshotOf(sessionId, feed);
          if (!snapshot) throw new AppError(404, 'NOT_FOUND', `Session ${sessionId} not found`);
          catchUp = await streams.after(sessionId, snapshot.id, maxCatchUp);
        }
        // Every stream was ended meanwhile (Redis failed, or shutdown): this one must not start.
        if (feeds.get(sessionId) !== feed || !feed.subscribers.has(subscriber)) throw new Error('streams were reset');
        const sink = open();
        if (!sink) throw new Error('client went away');
        subscriber.sink = sink;
        sink.onClose(() => remove(sessionId, subscriber));
        sink.onDrain(() => {
          subscriber.allowance = 0;
        });
        if (snapshot) {
          subscriber.allowance = snapshot.frame.length;
          sink.write(snapshot.frame);
          observer.sent('snapshot', 1);
        }
        subscriber.lastSent = snapshot?.id ?? from;
        for (const entry of catchUp) {
          subscriber.lastSent = entry.id;
          sink.write(seatsFrame(ids.version(entry.id), entry.changes));
        }
        if (catchUp.length) observer.sent('seats', catchUp.length);
        // The shared read may have started (another subscriber's) beyond where this catch-up ended: fill the gap;
        // what the read delivers meanwhile waits in `waiting`.
        for (let cursor = feed.cursor; cursor !== undefined && ids.compare(cursor, subscriber.lastSent) > 0; cursor = feed.cursor) {
          const gap = await streams.after(sessionId, subscriber.lastSent, maxCatchUp);
          if (!gap.length) break;
          for (const entry of gap) {
            subscriber.lastSent = entry.id;
            sink.write(seatsFrame(ids.version(entry.id), entry.changes));
          }
          observer.sent('seats', gap.length);
        }
      } catch (error) {
        remove(sessionId, subscriber);
        if (error instanceof AppError) throw error;
        throw new AppError(503, 'STREAM_UNAVAILABLE', 'The live seat map is unavailable right now; poll the seat map instead', {
          reason: (error as Error).message,
        });
      }
      if (feeds.get(sessionId) !== feed || !feed.subscribers.has(subscriber)) {
        subscriber.sink.end(); // ended while filling the gap
        return;
      }
      const waiting = subscriber.waiting ?? [];
      subscriber.waiting = undefined;
      for (const { id, frame } of waiting) {
        if (ids.compare(id, subscriber.lastSent) <= 0) continue;
        subscriber.lastSent = id;
        send(sessionId, subscriber, frame);
      }
      if (feed.cursor === undefined && feeds.get(sessionId) === feed) {
        feed.cursor = subscriber.lastSent;
        ensureReading();
      }
    },
    /** Ends every stream (clients reconnect elsewhere) and stops reading. */
    async close(): Promise<void> {
      closed = true;
      clearInterval(heartbeat);
      endAll();
      await streams.interrupt();
      await reading;
    },
  };
}

export type LiveSeatMap = ReturnType<typeof createLiveSeatMap>;
