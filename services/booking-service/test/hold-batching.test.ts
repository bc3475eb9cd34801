import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningBookingApi } from '../src/entry-points/api';
import {
  createTestSession,
  newUser,
  request,
  reserve,
  seatStates,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from './support/harness';

// Holds batched across concurrent buyers (withBatchedHolds), against the real event API behind a forwarding
// HTTP proxy that records which hold calls went out and can turn a batch call's answer into a 500.
let forwarder: Forwarder;
let booking: RunningBookingApi;
// Registered before useBookingSystem's, so it runs first: the booking API stops before its database is dropped.
afterAll(async () => {
  await stopBookingSide(booking);
  await forwarder?.close();
});
const system = useBookingSystem({ eventDb: true, privateDatabase: 'hold_batching' });

interface Forwarder {
  url: string;
  calls: string[];
  /** Forward batch holds (they apply) but answer 500, as if the event service failed after committing. */
  failBatchesAfterApplying: boolean;
  /** Hold single-hold answers back this long, so requests arriving meanwhile queue for a batch. */
  singleHoldDelayMs: number;
  close(): Promise<void>;
}

async function startForwarder(targetUrl: string): Promise<Forwarder> {
  const target = new URL(targetUrl);
  const state = { calls: [] as string[], failBatchesAfterApplying: false, singleHoldDelayMs: 0 };
  const server = http.createServer((incoming, answer) => {
    const path = incoming.url ?? '/';
    if (path.includes('/seats/reserve') || path.includes('/holds/batch')) state.calls.push(path.includes('/holds/batch') ? 'batch' : 'single');
    const upstream = http.request(
      { host: target.hostname, port: target.port, path, method: incoming.method, headers: incoming.headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const send = () => {
            if (path.includes('/holds/batch') && state.failBatchesAfterApplying) {
              answer.writeHead(500, { 'content-type': 'application/json' });
              answer.end(JSON.stringify({ error: { code: 'INTERNAL_ERROR', message: 'lost after commit' } }));
              return;
            }
            answer.writeHead(response.statusCode ?? 502, response.headers);
            answer.end(Buffer.concat(chunks));
          };
          if (path.includes('/seats/reserve') && state.singleHoldDelayMs > 0) setTimeout(send, state.singleHoldDelayMs);
          else send();
        });
      },
    );
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

beforeAll(async () => {
  forwarder = await startForwarder(system.event.url);
  booking = await startBookingSide(forwarder.url, { DATABASE_URL: system.privateDatabase.url, HOLD_BATCH_MAX_IN_FLIGHT: 1 });
});
beforeEach(() => {
  forwarder.calls.length = 0;
  forwarder.failBatchesAfterApplying = false;
  forwarder.singleHoldDelayMs = 0;
});

const batchSizeCount = async () => {
  const metrics = await request(booking.url, 'GET', '/metrics');
  return Number(/^booking_hold_batch_size_count(?:\{[^}]*\})? (\d+)/m.exec(String(metrics.body))?.[1] ?? 0);
};

describe('holds batched across concurrent requests', () => {
  it('when a lone request arrives while idle, then its hold goes out at once on the single hold call', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const batchesBefore = await batchSizeCount();

    const response = await reserve(booking.url, newUser(), sessionId, [seatIds[0]]);

    expect(response.status).toBe(201);
    expect(forwarder.calls).toEqual(['single']);
    expect((await batchSizeCount()) - batchesBefore).toBe(1);
  });

  it('when buyers arrive while a hold call is busy, then their holds go together and each gets its own answer', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 12 });
    forwarder.singleHoldDelayMs = 300;
    const first = reserve(booking.url, newUser(), sessionId, [seatIds[0]]);
    // The same seat twice among the rest: exactly one of those two may have it.
    const wanted = [...seatIds.slice(1, 11), seatIds[1]];
    const rest = wanted.map((seatId) => reserve(booking.url, newUser(), sessionId, [seatId]));

    const responses = await Promise.all([first, ...rest]);

    expect(forwarder.calls[0]).toBe('single');
    expect(forwarder.calls).toContain('batch');
    expect(responses.filter((response) => response.status === 201)).toHaveLength(11);
    const refused = responses.filter((response) => response.status !== 201);
    expect(refused).toHaveLength(1);
    expect(refused[0].status).toBe(409);
    expect(['SEAT_LOCKED', 'SEATS_UNAVAILABLE']).toContain(refused[0].body.error.code);
    const states = await seatStates(system.eventDb, seatIds.slice(0, 11));
    for (const response of responses.filter((r) => r.status === 201)) {
      expect(states.get(response.body.items[0].session_seat_id)).toMatchObject({ status: 'reserved', reservation_id: response.body.id });
    }
  });

  it('when a batch call fails at the event service after applying, then each of its requests gets 503 and its hold is released', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 8 });
    forwarder.singleHoldDelayMs = 300;
    forwarder.failBatchesAfterApplying = true;

    const responses = await Promise.all(seatIds.map((seatId) => reserve(booking.url, newUser(), sessionId, [seatId])));

    expect(forwarder.calls).toContain('batch');
    const failed = responses.map((response, index) => ({ response, seatId: seatIds[index] })).filter(({ response }) => response.status !== 201);
    expect(failed.length).toBeGreaterThan(0);
    const states = await seatStates(system.eventDb, seatIds);
    for (const { response, seatId } of failed) {
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('EVENT_SERVICE_UNAVAILABLE');
      // Compensated: the hold the failed batch applied was released, and nothing is left to the sweep.
      expect(states.get(seatId)).toMatchObject({ status: 'available', reservation_id: null });
    }
    expect(await booking.db('pending_holds').where({ session_id: sessionId })).toEqual([]);
    const written = await booking.db('reservations').where({ session_id: sessionId });
    expect(written).toHaveLength(responses.length - failed.length);
  });
});
