/**
 * Issue 10, "memory": a 200,000-seat map was rendered as one 41 MB string (plus a 41 MB Buffer and the gzip
 * copy) per render, and six readers took the event API past the chart's 384 Mi limit. What keeps it bounded
 * now, asserted structurally (the figures come from test/load/big-seat-map.js):
 * - a render never holds the map as a whole: the store hands it over in pages of at most 1,000 seats;
 * - the cache keeps only the compressed bytes, within a byte budget;
 * - concurrent readers share one render; a stream of writes never queues more than one render per session;
 * - a client without gzip gets the same body, decompressed as it reads.
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { catalogRepository } from '../../services/event-service/src/data-access/catalog-repository';
import type { SeatMapRenderer } from '../../services/event-service/src/domain/catalog';
import { createSeatMapCache } from '../../services/event-service/src/entry-points/http/seat-map-cache';
import type { EventApi } from '../../services/event-service/src/entry-points/api';
import { buildCatalog, startTestApi } from '../../services/event-service/test/support/api';

const SEATS = 25_000;
const PAGE = 1_000;

let api: EventApi;
let sessionId: string;
beforeAll(async () => {
  api = await startTestApi({ SEAT_MAP_CACHE_MS: 60_000 });
  const seats = Array.from({ length: SEATS }, (_, i) => ({ row_number: `R${Math.floor(i / 500) + 1}`, seat_number: (i % 500) + 1 }));
  ({
    session: { id: sessionId },
  } = await buildCatalog(api.url, { seats }));
}, 60_000);
afterAll(async () => {
  await api?.stop();
});

function rawGet(path: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    http
      .get(`${api.url}${path}`, { headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('big seat maps cost bounded memory', () => {
  test('when a big map is rendered, then the store hands it over in pages, never whole', async () => {
    const pieces: number[] = [];
    const repository = catalogRepository(api.db);
    let text = '';
    await repository.streamSeatMap(sessionId, async (piece) => {
      pieces.push(piece.length);
      text += piece;
    });
    const seatBytes = text.length / SEATS;
    console.log(`${SEATS} seats: ${text.length} bytes of JSON in ${pieces.length} pieces, largest ${Math.max(...pieces)} bytes`);
    expect(JSON.parse(text).seats).toHaveLength(SEATS);
    expect(pieces.length).toBeGreaterThanOrEqual(Math.ceil(SEATS / PAGE) + 2); // head, pages, tail
    expect(Math.max(...pieces)).toBeLessThan(PAGE * seatBytes * 1.2);
  });

  test('when six readers ask at once, then one render serves them and the cache holds only its compressed bytes', async () => {
    let renders = 0;
    const onQuery = (query: { sql: string }) => {
      if (query.sql.includes('DECLARE seat_map')) renders += 1;
    };
    api.db.on('query', onQuery);
    try {
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          rawGet(`/api/v1/sessions/${sessionId}/seat-map`, { 'Accept-Encoding': i % 2 ? 'identity' : 'gzip' }),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
      expect(renders).toBe(1);
      const zipped = answers[0];
      const plain = answers[1];
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers['content-type']).toMatch(/^application\/json/);
      expect(zipped.headers['content-type']).toMatch(/^application\/json/);
      expect(Number(plain.headers['content-length'])).toBe(plain.body.length);
      expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
      expect(new Set(answers.map((answer) => answer.headers.etag)).size).toBe(1);
      console.log(`six readers: 1 render, ${plain.body.length} bytes of JSON served from ${zipped.body.length} bytes kept`);
    } finally {
      api.db.removeListener('query', onQuery);
    }

    const repository = catalogRepository(api.db);
    const cache = createSeatMapCache(repository.streamSeatMap, { ttlMs: 60_000 });
    const map = (await cache.get(sessionId))!;
    expect(Object.keys(map).sort()).toEqual(['etag', 'gzip', 'length']); // no plain copy is kept
    expect(cache.bytes).toBe(map.gzip.length);
    expect(map.gzip.length).toBeLessThan(map.length / 3);
  });

  test('when maps exceed the byte budget, then the least recently used are dropped', async () => {
    const repository = catalogRepository(api.db);
    const small = await Promise.all([buildCatalog(api.url), buildCatalog(api.url)]);
    const cache = createSeatMapCache(repository.streamSeatMap, { ttlMs: 60_000, maxBytes: 1 });
    for (const { session } of small) await cache.get(session.id);
    await cache.get(sessionId);
    expect(cache.size).toBe(1); // only the newest is kept, even above the budget
  });

  test('when this instance writes seats during renders, then at most one render runs and one waits per session', async () => {
    let running = 0;
    let mostRunning = 0;
    let renders = 0;
    const repository = catalogRepository(api.db);
    const counting: SeatMapRenderer = async (id, write) => {
      renders += 1;
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      try {
        return await repository.streamSeatMap(id, write);
      } finally {
        running -= 1;
      }
    };
    const cache = createSeatMapCache(counting, { ttlMs: 60_000 });
    const readers: Array<Promise<unknown>> = [];
    const writes = 30;
    for (let i = 0; i < writes; i += 1) {
      readers.push(cache.get(sessionId));
      await new Promise((resolve) => setImmediate(resolve));
      cache.invalidate(sessionId); // what a hold through this instance does
      readers.push(cache.get(sessionId));
    }
    await Promise.all(readers);
    console.log(`${writes} writes while ${readers.length} reads waited: ${renders} renders, at most ${mostRunning} at once`);
    expect(mostRunning).toBe(1);
    expect(renders).toBeGreaterThan(1); // the writes did cause new renders…
    expect(renders).toBeLessThan(writes); // …but shared ones, not one each
  });
});
