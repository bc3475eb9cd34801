import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { Redis } from 'ioredis';
import { createLogger, type Knex, type TicketingEvent } from '@ticketing/platform';
import type { EventApi } from '../src/entry-points/api';
import { catalogRepository } from '../src/data-access/catalog-repository';
import { publishingSeatInventory } from '../src/data-access/publishing-seat-inventory';
import { compareEntryIds, entryIdOfVersion, openSeatChangeStream, versionOfEntryId } from '../src/data-access/seat-change-stream';
import { seatInventoryRepository } from '../src/data-access/seat-inventory-repository';
import { applyBookingEvents } from '../src/domain/booking-events';
import { createLiveSeatMap, type StreamSink } from '../src/domain/live-seat-map';
import { createSseParser, type SseEvent } from '../../web-app/src/client/sse-parser';
import { eventually, request } from '../../../test/support/http';
import { REDIS_URL } from '../../../test/support/infra';
import { TcpProxy } from '../../booking-service/test/support/tcp-proxy';
import { startTestApi } from './support/api';
import { createSessionFixture, inMinutes, type SessionFixture } from './support/fixtures';

/** This file's own Redis keys, so runs never see each other's changes. */
const KEY_PREFIX = `test:seat-map-changes:${randomUUID().slice(0, 8)}:`;
const live = { REDIS_URL, SEAT_MAP_STREAM_KEY_PREFIX: KEY_PREFIX, SEAT_MAP_STREAM_HEARTBEAT_SECONDS: 1 };

let writer: EventApi;
let reader: EventApi;
let db: Knex;
let redis: Redis;
beforeAll(async () => {
  // Two replicas of the event API on one database and one Redis: a write through one reaches the other's streams.
  writer = await startTestApi(live);
  reader = await startTestApi(live);
  db = writer.db;
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await reader?.stop();
  await writer?.stop();
  redis?.disconnect();
});

interface OpenStream {
  status: number;
  contentType: string;
  events: SseEvent[];
  comments: number;
  /** Resolves with the first event matching `predicate` after the one the previous call matched. */
  next(predicate: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  ended: Promise<void>;
  close(): void;
}

/** Opens the SSE stream with a plain HTTP client and parses it as the web app does. */
function openStream(api: EventApi, sessionId: string, lastEventId?: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      `${api.url}/api/v1/sessions/${sessionId}/seat-map/stream`,
      { headers: { Accept: 'text/event-stream', ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) } },
      (res) => {
        const events: SseEvent[] = [];
        /** Events before this index were matched by an earlier next(). */
        let consumed = 0;
        const waiters: Array<() => void> = [];
        const stream: OpenStream = {
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          events,
          comments: 0,
          next(predicate, timeoutMs = 5_000) {
            return new Promise((found, fail) => {
              const timer = setTimeout(() => fail(new Error(`no matching event within ${timeoutMs} ms`)), timeoutMs);
              const check = () => {
                const index = events.findIndex((event, at) => at >= consumed && predicate(event));
                if (index === -1) {
                  waiters.push(check);
                  return;
                }
                consumed = index + 1;
                clearTimeout(timer);
                found(events[index]);
              };
              check();
            });
          },
          ended: new Promise((done) => res.once('close', () => done())),
          close: () => req.destroy(),
        };
        const parser = createSseParser((event) => {
          events.push(event);
          for (const waiter of waiters.splice(0)) waiter();
        });
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          stream.comments += (chunk.match(/^:/gm) ?? []).length;
          parser.push(chunk);
        });
        res.on('error', () => undefined);
        resolve(stream);
      },
    );
    req.on('error', reject);
  });
}

const internal = (api: EventApi, path: string, body: unknown) => request(api.url, 'POST', `/api/internal${path}`, { body });
const hold = (api: EventApi, s: SessionFixture, reservationId: string, seatIds: string[]) =>
  internal(api, `/sessions/${s.sessionId}/seats/reserve`, {
    reservation_id: reservationId,
    session_seat_ids: seatIds,
    reserved_until: inMinutes(10).toISOString(),
  });
const release = (api: EventApi, s: SessionFixture, reservationId: string, seatIds: string[]) =>
  internal(api, `/sessions/${s.sessionId}/seats/release`, { reservation_id: reservationId, session_seat_ids: seatIds });

const seatsOf = (event: SseEvent) => JSON.parse(event.data) as { version: number; seats: Array<{ session_seat_id: string; status: string; reserved_until: string | null; version: number }> };
const changesSeat = (seatId: string, status: string) => (event: SseEvent) =>
  event.event === 'seats' && seatsOf(event).seats.some((seat) => seat.session_seat_id === seatId && seat.status === status);

/** One reservation per list of seats, all in one internal batch call through the writer; the per-hold statuses. */
async function holdInOneBatch(s: SessionFixture, seatLists: string[][]): Promise<number[]> {
  const reservedUntil = inMinutes(10).toISOString();
  const holds = seatLists.map((seatIds) => ({ session_id: s.sessionId, reservation_id: randomUUID(), session_seat_ids: seatIds, reserved_until: reservedUntil }));
  const response = await request(writer.url, 'POST', '/api/internal/holds/batch', { body: { holds } });
  return (response.body.results as Array<{ status: number }>).map((result) => result.status);
}

/** Every seat state the stream has delivered in `seats` events so far. */
const publishedSeats = (stream: OpenStream) => stream.events.filter((event) => event.event === 'seats').flatMap((event) => seatsOf(event).seats);

/** A client follows the session, sees the first seat held, and disconnects; the event it saw last. */
async function seeFirstHoldThenLeave(s: SessionFixture): Promise<SseEvent> {
  const first = await openStream(reader, s.sessionId);
  await first.next((event) => event.event === 'snapshot');
  await hold(writer, s, randomUUID(), [s.seatIds[0]]);
  const seen = await first.next(changesSeat(s.seatIds[0], 'reserved'));
  first.close();
  return seen;
}

describe('the live seat map (GET /sessions/{id}/seat-map/stream)', () => {
  test('when a seat is held through another API replica, then a subscriber of this one gets the snapshot and then the change', async () => {
    const s = await createSessionFixture(db, { rows: 2, seatsPerRow: 5 });
    const stream = await openStream(reader, s.sessionId);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const snapshot = await stream.next((event) => event.event === 'snapshot');
    const map = JSON.parse(snapshot.data);
    expect(map.session_id).toBe(s.sessionId);
    expect(map.seats).toHaveLength(10);
    expect(typeof map.version).toBe('number');
    expect(snapshot.id).toBe(String(map.version));

    const reservationId = randomUUID();
    expect((await hold(writer, s, reservationId, [s.seatIds[3], s.seatIds[4]])).status).toBe(200);
    const change = seatsOf(await stream.next(changesSeat(s.seatIds[3], 'reserved')));
    expect(change.seats.map((seat) => seat.session_seat_id).sort()).toEqual([s.seatIds[3], s.seatIds[4]].sort());
    expect(change.seats[0]).toEqual({
      session_seat_id: expect.any(String),
      status: 'reserved',
      reserved_until: expect.stringMatching(/Z$/),
      version: change.version,
    });
    expect(change.version).toBeGreaterThan(map.version);

    await release(writer, s, reservationId, [s.seatIds[3], s.seatIds[4]]);
    const freed = seatsOf(await stream.next(changesSeat(s.seatIds[3], 'available')));
    expect(freed.seats.find((seat) => seat.session_seat_id === s.seatIds[3])).toMatchObject({ reserved_until: null });
    expect(freed.version).toBeGreaterThan(change.version);
    stream.close();
  });

  test('when holds arrive in one batch call, then each seat held is published after the commit and a refused one is not', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 4 });
    const stream = await openStream(reader, s.sessionId);
    await stream.next((event) => event.event === 'snapshot');

    expect(await holdInOneBatch(s, [[s.seatIds[0]], [s.seatIds[0], s.seatIds[1]], [s.seatIds[2]]])).toEqual([200, 409, 200]);
    // The batch's changes go out together (one event per commit); a later single hold shows the stream moved past them.
    await hold(writer, s, randomUUID(), [s.seatIds[3]]);
    await stream.next(changesSeat(s.seatIds[3], 'reserved'));
    const published = publishedSeats(stream);
    expect(published.filter((seat) => seat.status === 'reserved').map((seat) => seat.session_seat_id).sort()).toEqual(
      [s.seatIds[0], s.seatIds[2], s.seatIds[3]].sort(),
    );
    expect(published.map((seat) => seat.session_seat_id)).not.toContain(s.seatIds[1]);
    stream.close();
  });

  test('when a batch of disjoint holds (one statement) has a refused reservation, then only the seats held are published', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 5 });
    const stream = await openStream(reader, s.sessionId);
    await stream.next((event) => event.event === 'snapshot');
    await hold(writer, s, randomUUID(), [s.seatIds[1]]);
    await stream.next(changesSeat(s.seatIds[1], 'reserved'));

    expect(await holdInOneBatch(s, [[s.seatIds[0]], [s.seatIds[1], s.seatIds[2]], [s.seatIds[3]]])).toEqual([200, 409, 200]);
    await hold(writer, s, randomUUID(), [s.seatIds[4]]);
    await stream.next(changesSeat(s.seatIds[4], 'reserved'));
    const published = publishedSeats(stream);
    expect(published.filter((seat) => seat.status === 'reserved').map((seat) => seat.session_seat_id).sort()).toEqual(
      [s.seatIds[1], s.seatIds[0], s.seatIds[3], s.seatIds[4]].sort(),
    );
    expect(published.map((seat) => seat.session_seat_id)).not.toContain(s.seatIds[2]);
    stream.close();
  });

  test('when a client reconnects with Last-Event-ID, then it gets only the changes it missed, without a snapshot', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 6 });
    const seen = await seeFirstHoldThenLeave(s);

    // Missed while away: two holds.
    await hold(writer, s, randomUUID(), [s.seatIds[1]]);
    await hold(writer, s, randomUUID(), [s.seatIds[2]]);
    const resumed = await openStream(reader, s.sessionId, seen.id);
    await resumed.next(changesSeat(s.seatIds[2], 'reserved'));
    expect(resumed.events.map((event) => event.event)).toEqual(['seats', 'seats']);
    expect(resumed.events.flatMap((event) => seatsOf(event).seats.map((seat) => seat.session_seat_id))).toEqual([s.seatIds[1], s.seatIds[2]]);

    // And live from there.
    await hold(writer, s, randomUUID(), [s.seatIds[3]]);
    await resumed.next(changesSeat(s.seatIds[3], 'reserved'));
    expect(resumed.events.filter((event) => event.event === 'snapshot')).toHaveLength(0);
    resumed.close();
  });

  test('when the Last-Event-ID is older than the changes still kept, then the client gets a fresh snapshot', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 4 });
    const seen = await seeFirstHoldThenLeave(s);
    await hold(writer, s, randomUUID(), [s.seatIds[1]]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The retention limit trimmed everything (as MAXLEN does to a busy session's old changes).
    await redis.xtrim(`${KEY_PREFIX}${s.sessionId}`, 'MAXLEN', 0);

    const resumed = await openStream(reader, s.sessionId, seen.id);
    const snapshot = JSON.parse((await resumed.next((event) => event.event === 'snapshot')).data);
    const statuses = Object.fromEntries(snapshot.seats.map((seat: { session_seat_id: string; status: string }) => [seat.session_seat_id, seat.status]));
    expect(statuses[s.seatIds[1]]).toBe('reserved');
    resumed.close();

    const unknown = await openStream(reader, s.sessionId, 'not-a-version');
    await unknown.next((event) => event.event === 'snapshot');
    unknown.close();
  });

  test('when the session does not exist, then the stream answers 404 with the contract error', async () => {
    const response = await request(reader.url, 'GET', `/api/v1/sessions/${randomUUID()}/seat-map/stream`);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  test('when nothing changes, then a heartbeat comment arrives every SEAT_MAP_STREAM_HEARTBEAT_SECONDS', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 2 });
    const stream = await openStream(reader, s.sessionId);
    await stream.next((event) => event.event === 'snapshot');
    const deadline = Date.now() + 5_000;
    while (stream.comments < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stream.comments).toBeGreaterThanOrEqual(2);
    stream.close();
  });

  test('when the consumer applies a batch (sold, released), then the changes are published after its commit', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 3 });
    const stream = await openStream(reader, s.sessionId);
    await stream.next((event) => event.event === 'snapshot');
    const sold = randomUUID();
    const cancelled = randomUUID();
    await hold(writer, s, sold, [s.seatIds[0]]);
    await hold(writer, s, cancelled, [s.seatIds[1]]);

    const changes = openSeatChangeStream({ url: REDIS_URL, keyPrefix: KEY_PREFIX, retained: 1_000, logger: createLogger('test', 'silent') });
    const inventory = publishingSeatInventory(seatInventoryRepository(db), changes.feed);
    const event = (type: TicketingEvent['type'], reservationId: string, seatIds: string[]): TicketingEvent => ({
      id: randomUUID(),
      type,
      occurred_at: new Date().toISOString(),
      data: { reservation_id: reservationId, session_id: s.sessionId, user_id: randomUUID(), session_seat_ids: seatIds },
    });
    await applyBookingEvents(
      inventory,
      [event('reservation.confirmed', sold, [s.seatIds[0]]), event('reservation.cancelled', cancelled, [s.seatIds[1]])],
      createLogger('test', 'silent'),
    );
    const batch = seatsOf(await stream.next(changesSeat(s.seatIds[0], 'sold')));
    expect(batch.seats).toEqual(
      expect.arrayContaining([
        { session_seat_id: s.seatIds[0], status: 'sold', reserved_until: null, version: batch.version },
        { session_seat_id: s.seatIds[1], status: 'available', reserved_until: null, version: batch.version },
      ]),
    );
    await changes.close();
    stream.close();
  });

  test('when a subscriber does not read, then it is dropped once its unread bytes pass the buffer limit', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 3 });
    const changes = openSeatChangeStream({ url: REDIS_URL, keyPrefix: KEY_PREFIX, retained: 1_000, logger: createLogger('test', 'silent') });
    const dropped: string[] = [];
    const liveMap = createLiveSeatMap({
      streams: changes,
      ids: { compare: compareEntryIds, version: versionOfEntryId, fromVersion: entryIdOfVersion },
      render: catalogRepository(db).streamSeatMap,
      settings: { maxSubscribers: 10, bufferBytes: 1_024, heartbeatMs: 60_000 },
      observer: { sent: () => undefined, lag: () => undefined, dropped: (reason) => dropped.push(reason), readFailed: () => undefined },
    });
    // A socket that never drains: everything written stays buffered.
    let unread = 0;
    let ended = false;
    const stuck: StreamSink = {
      write: (frame) => {
        unread += frame.length;
      },
      buffered: () => unread,
      onDrain: () => undefined,
      onClose: () => undefined,
      end: () => {
        ended = true;
      },
    };
    await liveMap.subscribe(s.sessionId, undefined, () => stuck);
    expect(liveMap.subscribers).toBe(1);
    for (let round = 0; !ended && round < 40; round += 1) {
      const reservationId = randomUUID();
      await hold(writer, s, reservationId, [s.seatIds[0]]);
      await release(writer, s, reservationId, [s.seatIds[0]]);
    }
    const deadline = Date.now() + 5_000;
    while (!ended && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toBe(true);
    expect(dropped).toEqual(['slow']);
    expect(liveMap.subscribers).toBe(0);
    // Bounded: it stopped receiving right after passing the limit (its snapshot, 1 KiB, plus one event).
    expect(unread).toBeLessThan(1_024 + 2 * 1_024 + 2_000);
    await liveMap.close();
    await changes.close();
  });

  test('when the API stops, then its open streams end and the stop does not wait for them', async () => {
    const leaving = await startTestApi(live);
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 2 });
    const stream = await openStream(leaving, s.sessionId);
    await stream.next((event) => event.event === 'snapshot');
    const stopping = Date.now();
    await leaving.stop();
    await stream.ended;
    // Well under SHUTDOWN_TIMEOUT_MS (10 s), which an open stream would otherwise use up.
    expect(Date.now() - stopping).toBeLessThan(5_000);
  });

  test('when Redis goes away, then open streams end and new ones are refused with 503 until it is back', async () => {
    const redisPort = Number(new URL(REDIS_URL).port || 6379);
    const proxy = await TcpProxy.create({ host: new URL(REDIS_URL).hostname, port: redisPort });
    await proxy.start();
    const cut = await startTestApi({ ...live, REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    try {
      const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 2 });
      const stream = await openStream(cut, s.sessionId);
      await stream.next((event) => event.event === 'snapshot');
      await proxy.stop();
      await stream.ended;
      const refused = await request(cut.url, 'GET', `/api/v1/sessions/${s.sessionId}/seat-map/stream`);
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('STREAM_UNAVAILABLE');
      // The seat map itself does not need Redis.
      expect((await request(cut.url, 'GET', `/api/v1/sessions/${s.sessionId}/seat-map`)).status).toBe(200);

      await proxy.start();
      const back = await eventually(async () => {
        const attempt = await openStream(cut, s.sessionId);
        if (attempt.status === 200) return attempt;
        attempt.close();
        return undefined;
      }, 10_000, 250);
      await back!.next((event) => event.event === 'snapshot');
      back!.close();
    } finally {
      await cut.stop();
      await proxy.stop();
    }
  });

  test('when a replica has SEAT_MAP_STREAM_MAX_SUBSCRIBERS subscribers, then the next one gets 503 (the page polls)', async () => {
    const full = await startTestApi({ ...live, SEAT_MAP_STREAM_MAX_SUBSCRIBERS: 1 });
    try {
      const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 2 });
      const first = await openStream(full, s.sessionId);
      await first.next((event) => event.event === 'snapshot');
      const second = await request(full.url, 'GET', `/api/v1/sessions/${s.sessionId}/seat-map/stream`);
      expect(second.status).toBe(503);
      expect(second.body.error.code).toBe('STREAM_FULL');
      const metrics = await request(full.url, 'GET', '/metrics');
      expect(metrics.body).toMatch(/^seat_map_stream_subscribers{[^}]*} 1$/m);
      first.close();
    } finally {
      await full.stop();
    }
  });
});
