import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { EventApi } from '../src/entry-points/api';
import { catalogRepository } from '../src/data-access/catalog-repository';
import type { SeatMapRenderer } from '../src/domain/catalog';
import { createSeatMapCache } from '../src/entry-points/http/seat-map-cache';
import { request } from '../../../test/support/http';
import { buildCatalog, startTestApi } from './support/api';

/** A small cache time so the staleness bound can be waited out in a test. */
const CACHE_MS = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let api: EventApi;
beforeAll(async () => {
  api = await startTestApi({ SEAT_MAP_CACHE_MS: CACHE_MS });
});
afterAll(async () => {
  await api?.stop();
});

const seatMap = (sessionId: string, headers: Record<string, string> = {}) =>
  request(api.url, 'GET', `/api/v1/sessions/${sessionId}/seat-map`, { headers });

describe('the seat map', () => {
  test('lists every seat in the seed shape, row by row, numbers in numeric order and letter rows after', async () => {
    const labels = [
      ['10', '1'],
      ['2', '10'],
      ['2', '2'],
      ['A', '1'],
      ['2', '1'],
      ['1', '3'],
    ];
    const { session, hall } = await buildCatalog(api.url, {
      seats: labels.map(([row, seat]) => ({ row_number: row, seat_number: seat })),
      basePrice: 100,
    });
    const response = await seatMap(session.id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(response.body)).toEqual(['session_id', 'hall_id', 'seats']);
    expect(response.body.session_id).toBe(session.id);
    expect(response.body.hall_id).toBe(hall.id);
    expect(response.body.seats.map((s: any) => `${s.row_number}/${s.seat_number}`)).toEqual([
      '1/3',
      '2/1',
      '2/2',
      '2/10',
      '10/1',
      'A/1',
    ]);
    expect(response.body.seats[0]).toEqual({
      session_seat_id: expect.any(String),
      seat_id: expect.any(String),
      row_number: '1',
      seat_number: '3',
      price: 100.0,
      status: 'available',
      reserved_until: null,
    });
  });

  test('answers 304 to a matching If-None-Match, and a hold changes the ETag', async () => {
    const { session } = await buildCatalog(api.url);
    const first = await seatMap(session.id);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');

    const unchanged = await seatMap(session.id, { 'If-None-Match': etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBe('');
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect((await seatMap(session.id, { 'If-None-Match': `W/${etag}` })).status).toBe(304);

    const target = first.body.seats[1].session_seat_id;
    const reservedUntil = new Date(Date.now() + 600_000);
    const hold = await request(api.url, 'POST', `/api/internal/sessions/${session.id}/seats/reserve`, {
      body: { reservation_id: randomUUID(), session_seat_ids: [target], reserved_until: reservedUntil.toISOString() },
    });
    expect(hold.status).toBe(200);
    await sleep(CACHE_MS + 10);

    const changed = await seatMap(session.id, { 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.seats[1]).toMatchObject({
      session_seat_id: target,
      status: 'reserved',
      reserved_until: reservedUntil.toISOString(),
    });
  });

  test('an unknown session is 404 and a malformed id is 404', async () => {
    const unknown = await seatMap(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await seatMap('b623792d')).status).toBe(404);
  });
});

/** GET without automatic decompression: the bytes on the wire and the headers. */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    http
      .get(url, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

const holdSeat = (sessionId: string, seatId: string) =>
  request(api.url, 'POST', `/api/internal/sessions/${sessionId}/seats/reserve`, {
    body: {
      reservation_id: randomUUID(),
      session_seat_ids: [seatId],
      reserved_until: new Date(Date.now() + 600_000).toISOString(),
    },
  });

describe('the seat map cache', () => {
  test('a cached map shows a hold once SEAT_MAP_CACHE_MS has passed, and the hold itself never reads the cache', async () => {
    const { session } = await buildCatalog(api.url);
    const before = await seatMap(session.id);
    const [first, second] = before.body.seats.map((seat: any) => seat.session_seat_id);
    expect((await holdSeat(session.id, first)).status).toBe(200);
    // The map may still be the cached one here, but the inventory decides from the rows: a second hold of
    // the same seat is refused even while the map can still show it available.
    expect((await holdSeat(session.id, first)).status).toBe(409);
    await sleep(CACHE_MS + 10);
    const after = await seatMap(session.id);
    expect(after.body.seats.find((seat: any) => seat.session_seat_id === first).status).toBe('reserved');
    expect(after.body.seats.find((seat: any) => seat.session_seat_id === second).status).toBe('available');
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
  });

  test('gzip is sent to clients that accept it and decodes to the same JSON, with the same ETag', async () => {
    const { session } = await buildCatalog(api.url);
    const url = `${api.url}/api/v1/sessions/${session.id}/seat-map`;
    const plain = await rawGet(url, { 'Accept-Encoding': 'identity' });
    const zipped = await rawGet(url, { 'Accept-Encoding': 'gzip, deflate' });
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/Accept-Encoding/i);
    expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
    expect(zipped.headers.etag).toBe(plain.headers.etag);
    const decoded = gunzipSync(zipped.body).toString('utf8');
    expect(JSON.parse(decoded)).toEqual(JSON.parse(plain.body.toString('utf8')));
    expect(JSON.parse(decoded).session_id).toBe(session.id);

    const notModified = await rawGet(url, { 'Accept-Encoding': 'gzip', 'If-None-Match': String(zipped.headers.etag) });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
  });

  test('concurrent requests share one render (real database), and a new render follows the time-to-live', async () => {
    const { session } = await buildCatalog(api.url);
    const repository = catalogRepository(api.db);
    let renders = 0;
    const cache = createSeatMapCache(
      (sessionId, write) => {
        renders += 1;
        return repository.streamSeatMap(sessionId, write);
      },
      { ttlMs: CACHE_MS },
    );
    const maps = await Promise.all(Array.from({ length: 20 }, () => cache.get(session.id)));
    expect(renders).toBe(1);
    expect(cache.renders).toBe(1);
    expect(new Set(maps).size).toBe(1);
    expect(JSON.parse(gunzipSync(maps[0]!.gzip).toString('utf8')).session_id).toBe(session.id);

    await cache.get(session.id);
    expect(renders).toBe(1);
    await sleep(CACHE_MS + 10);
    // Past the time-to-live, the previous map is served at once while one new render runs.
    const during = await Promise.all([cache.get(session.id), cache.get(session.id)]);
    expect(during).toEqual([maps[0], maps[0]]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(renders).toBe(2);

    expect(await cache.get(randomUUID())).toBeUndefined();
    expect(renders).toBe(3);
  });

  test('when this instance holds, releases or sells a seat, then its next map shows it at once', async () => {
    const slow = await startTestApi({ SEAT_MAP_CACHE_MS: 60_000 });
    try {
      const { session } = await buildCatalog(slow.url);
      const read = async () =>
        (await request(slow.url, 'GET', `/api/v1/sessions/${session.id}/seat-map`)).body.seats as Array<any>;
      const [first] = (await read()).map((seat) => seat.session_seat_id);
      const reservationId = randomUUID();
      const seats = { reservation_id: reservationId, session_seat_ids: [first] };
      const internal = (action: string, body: object) =>
        request(slow.url, 'POST', `/api/internal/sessions/${session.id}/seats/${action}`, { body });
      const statusOfFirst = async () => (await read()).find((seat) => seat.session_seat_id === first).status;

      expect((await internal('reserve', { ...seats, reserved_until: new Date(Date.now() + 600_000).toISOString() })).status).toBe(200);
      expect(await statusOfFirst()).toBe('reserved');
      expect((await internal('release', seats)).status).toBe(200);
      expect(await statusOfFirst()).toBe('available');
      expect((await internal('reserve', { ...seats, reserved_until: new Date(Date.now() + 600_000).toISOString() })).status).toBe(200);
      expect((await internal('confirm', seats)).status).toBe(200);
      expect(await statusOfFirst()).toBe('sold');
    } finally {
      await slow.stop();
    }
  });

  test('when writes through this instance outpace ownWriteRefreshesPerSecond, then later ones wait for the TTL', async () => {
    const { session } = await buildCatalog(api.url);
    const repository = catalogRepository(api.db);
    let clock = 1_000_000;
    let renders = 0;
    const cache = createSeatMapCache(
      (sessionId, write) => {
        renders += 1;
        return repository.streamSeatMap(sessionId, write);
      },
      { ttlMs: 60_000, ownWriteRefreshesPerSecond: 1, now: () => clock },
    );
    await cache.get(session.id);
    for (let write = 0; write < 10; write += 1) {
      cache.invalidate(session.id);
      await cache.get(session.id);
    }
    expect(renders).toBe(1 + 4); // a burst of 4, then the rush falls back to the TTL
    clock += 2_000; // two seconds later, two more writes show at once
    for (let write = 0; write < 3; write += 1) {
      cache.invalidate(session.id);
      await cache.get(session.id);
    }
    expect(renders).toBe(1 + 4 + 2);
  });

  test('when a render takes longer than the TTL, then it is served for as long as it took, own writes included', async () => {
    let clock = 0;
    let renders = 0;
    // A huge map: every render takes 2 s of the cache's clock (over a second, and over the TTL).
    const slowRender: SeatMapRenderer = async (_sessionId, write) => {
      renders += 1;
      clock += 2_000;
      await write('{"session_id":"s","hall_id":"h","seats":[]}');
      return true;
    };
    const cache = createSeatMapCache(slowRender, { ttlMs: 500, now: () => clock });
    await cache.get('s'); // rendered from 0 to 2,000
    clock = 3_900;
    cache.invalidate('s'); // within one render time of the last render: no re-render for it
    await cache.get('s');
    expect(renders).toBe(1);
    clock = 4_000; // served for as long as it took: until 2,000 + 2,000
    await cache.get('s');
    await new Promise((resolve) => setImmediate(resolve));
    expect(renders).toBe(2);
  });

  test('when a map outlived its TTL, then it is served while the next renders, unless a write of this instance or age forbids', async () => {
    let clock = 0;
    let version = 0;
    const release: Array<() => void> = [];
    // Each render waits until the test lets it finish, and says which render it was.
    const gatedRender: SeatMapRenderer = async (_sessionId, write) => {
      const mine = (version += 1);
      await new Promise<void>((resolve) => release.push(resolve));
      await write(`{"session_id":"s","hall_id":"h","seats":[],"v":${mine}}`);
      return true;
    };
    const versionOf = (map: Awaited<ReturnType<typeof cache.get>>) => JSON.parse(gunzipSync(map!.gzip).toString()).v;
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    /** Lets every render through until `promise` settles (renders start as earlier ones finish). */
    const finish = async <T>(promise: Promise<T>): Promise<T> => {
      let done = false;
      void promise.finally(() => (done = true));
      while (!done) {
        while (release.length) release.shift()!();
        await sleep(5);
      }
      return promise;
    };
    const cache = createSeatMapCache(gatedRender, { ttlMs: 500, now: () => clock });

    expect(versionOf(await finish(cache.get('s')))).toBe(1);

    clock = 600; // expired 100 ms ago: served while render 2 runs
    expect(versionOf(await cache.get('s'))).toBe(1);
    await settle();
    cache.invalidate('s'); // this instance wrote: the old map must not be served any more
    expect(versionOf(await finish(cache.get('s')))).toBe(3); // render 2 may predate the write: render 3 follows it

    clock = 100_000; // long after expiry: the old map is too old to serve meanwhile
    expect(versionOf(await finish(cache.get('s')))).toBe(4);
  });

  test('through HTTP, concurrent requests for one session cause one seat-map query', async () => {
    const { session } = await buildCatalog(api.url);
    let renders = 0;
    const onQuery = (query: { sql: string }) => {
      if (query.sql.includes('DECLARE seat_map')) renders += 1;
    };
    api.db.on('query', onQuery);
    try {
      const responses = await Promise.all(Array.from({ length: 10 }, () => seatMap(session.id)));
      expect(responses.map((response) => response.status)).toEqual(Array(10).fill(200));
      expect(new Set(responses.map((response) => response.headers.get('etag'))).size).toBe(1);
      expect(renders).toBe(1);
    } finally {
      api.db.removeListener('query', onQuery);
    }
  });

  test('0 disables the cache, and the cache never holds more than maxEntries sessions', async () => {
    const { session } = await buildCatalog(api.url);
    const repository = catalogRepository(api.db);
    let renders = 0;
    const uncached = createSeatMapCache(
      (sessionId, write) => {
        renders += 1;
        return repository.streamSeatMap(sessionId, write);
      },
      { ttlMs: 0 },
    );
    await Promise.all([uncached.get(session.id), uncached.get(session.id)]);
    expect(renders).toBe(2);
    expect(uncached.size).toBe(0);

    const others = await Promise.all([buildCatalog(api.url), buildCatalog(api.url)]);
    const bounded = createSeatMapCache(repository.streamSeatMap, { ttlMs: 60_000, maxEntries: 2 });
    for (const id of [session.id, ...others.map((other) => other.session.id)]) await bounded.get(id);
    expect(bounded.size).toBe(2);
  });
});
