/**
 * The waiting room through the booking API, with the real event API, Postgres and Redis: the reservation guard
 * and token misuse, the status stream, sold out, a restart mid-queue and one ticker across two instances.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_URL } from '../../../test/support/infra';
import type { RunningBookingApi } from '../src/entry-points/api';
import { signAdmissionToken } from '../src/domain/waiting-room-rules';
import {
  asUser,
  confirm,
  createTestSession,
  eventually,
  newUser,
  request,
  reserve,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from './support/harness';

const system = useBookingSystem();
const prefix = `wr-api-${randomUUID().slice(0, 8)}`;
const started: RunningBookingApi[] = [];
let booking: RunningBookingApi;

async function startBooking() {
  const api = await startBookingSide(system.event.url, {
    WAITING_ROOM_REDIS_PREFIX: prefix,
    WAITING_ROOM_TICK_MS: 50,
    WAITING_ROOM_SOLD_OUT_CHECK_MS: 200,
    PAYMENT_SUCCESS_RATE: 1,
  });
  started.push(api);
  return api;
}

beforeAll(async () => {
  booking = await startBooking();
});

afterAll(async () => {
  for (const api of started) await stopBookingSide(api);
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

async function openWaitingRoom(sessionId: string, options: { opensInMs?: number; rate?: number; holdSeconds?: number } = {}) {
  const response = await request(booking.url, 'PUT', `/api/v1/sessions/${sessionId}/waiting-room`, {
    body: {
      opens_at: new Date(Date.now() + (options.opensInMs ?? -1_000)).toISOString(),
      admission_rate_per_second: options.rate ?? 50,
      hold_window_seconds: options.holdSeconds ?? 60,
    },
  });
  expect(response.status).toBe(200);
  return response.body;
}

const join = (url: string, userId: string, sessionId: string) => request(url, 'POST', `/api/v1/sessions/${sessionId}/queue`, asUser(userId));
const statusOf = (url: string, userId: string, ticket: string) => request(url, 'GET', `/api/v1/queue/${ticket}`, asUser(userId));

async function admitted(userId: string, sessionId: string): Promise<string> {
  const joined = await join(booking.url, userId, sessionId);
  expect(joined.status).toBe(200);
  const status = await eventually(async () => {
    const response = await statusOf(booking.url, userId, joined.body.queue_ticket);
    return response.body.status === 'ADMITTED' ? response.body : undefined;
  });
  expect(status?.admission?.token).toEqual(expect.any(String));
  return status.admission.token as string;
}

const withToken = (token: string) => ({ headers: { 'x-queue-admission': token } });

describe('waiting room through the booking API', () => {
  it('when a session has a waiting room, then holding seats needs the buyer’s own unexpired token for that session', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 4 });
    const other = await createTestSession(system.event.url, { seats: 2 });
    await openWaitingRoom(sessionId);
    await openWaitingRoom(other.sessionId);
    const buyer = newUser();
    const token = await admitted(buyer, sessionId);

    const refusals = [
      await reserve(booking.url, buyer, sessionId, [seatIds[0]]),
      await reserve(booking.url, newUser(), sessionId, [seatIds[0]], withToken(token)),
      await reserve(booking.url, buyer, other.sessionId, [other.seatIds[0]], withToken(token)),
      await reserve(booking.url, buyer, sessionId, [seatIds[0]], withToken(`${token.slice(0, -2)}xx`)),
      await reserve(
        booking.url,
        buyer,
        sessionId,
        [seatIds[0]],
        withToken(signAdmissionToken(booking.config.QUEUE_ADMISSION_SECRET, { sessionId, userId: buyer, exp: Math.floor(Date.now() / 1000) - 1 })),
      ),
    ];
    expect(refusals.map((r) => [r.status, r.body.error.code, r.body.error.details.reason])).toEqual([
      [403, 'QUEUE_ADMISSION_REQUIRED', 'missing'],
      [403, 'QUEUE_ADMISSION_REQUIRED', 'other_user'],
      [403, 'QUEUE_ADMISSION_REQUIRED', 'other_session'],
      [403, 'QUEUE_ADMISSION_REQUIRED', 'malformed'],
      [403, 'QUEUE_ADMISSION_REQUIRED', 'expired'],
    ]);
    expect((await reserve(booking.url, buyer, sessionId, [seatIds[0]], withToken(token))).status).toBe(201);

    // A session without a waiting room is unchanged.
    const open = await createTestSession(system.event.url, { seats: 1 });
    expect((await reserve(booking.url, newUser(), open.sessionId, open.seatIds)).status).toBe(201);
  });

  it('when a buyer reads another buyer’s queue ticket, or a session without a waiting room, then it is refused', async () => {
    const { sessionId } = await createTestSession(system.event.url, { seats: 1 });
    expect((await join(booking.url, newUser(), sessionId)).status).toBe(404);
    const unknownSession = await request(booking.url, 'PUT', `/api/v1/sessions/${randomUUID()}/waiting-room`, {
      body: { opens_at: new Date().toISOString(), admission_rate_per_second: 1, hold_window_seconds: 60 },
    });
    expect(unknownSession.status).toBe(404);
    await openWaitingRoom(sessionId, { opensInMs: 60_000 });
    const joined = await join(booking.url, newUser(), sessionId);
    expect(joined.body).toMatchObject({ status: 'WAITING_FOR_OPENING', position: null, waiting: 1 });
    expect((await statusOf(booking.url, newUser(), joined.body.queue_ticket)).status).toBe(403);
    expect((await request(booking.url, 'GET', `/api/v1/sessions/${sessionId}/waiting-room`)).body).toMatchObject({
      state: 'WAITING_FOR_OPENING',
      admission_rate_per_second: 50,
    });
  });

  it('when a buyer follows the status stream, then they see their place and then the admission token', async () => {
    const { sessionId } = await createTestSession(system.event.url, { seats: 2 });
    await openWaitingRoom(sessionId, { opensInMs: 1_500 });
    const buyer = newUser();
    const joined = await join(booking.url, buyer, sessionId);
    const response = await fetch(`${booking.url}/api/v1/queue/${joined.body.queue_ticket}/stream`, { headers: { 'x-user-id': buyer } });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await response.text(); // the stream ends after the final status
    const statuses = [...text.matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]).status);
    expect(statuses[0]).toBe('WAITING_FOR_OPENING');
    expect(statuses.at(-1)).toBe('ADMITTED');
  });

  it('when a queued buyer follows the stream, then the position counts down as others are admitted, then the token comes', async () => {
    const { sessionId } = await createTestSession(system.event.url, { seats: 4 });
    await openWaitingRoom(sessionId, { rate: 0.01 });
    // The next tick opens it; joins before that would be drawn at random, not queued in order.
    await eventually(async () => (await request(booking.url, 'GET', `/api/v1/sessions/${sessionId}/waiting-room`)).body.state === 'OPEN');
    const ahead = [newUser(), newUser(), newUser()];
    for (const buyer of ahead) await join(booking.url, buyer, sessionId);
    const buyer = newUser();
    const joined = await join(booking.url, buyer, sessionId);
    expect(joined.body).toMatchObject({ status: 'QUEUED', position: 4, ahead: 3 });
    const stream = fetch(`${booking.url}/api/v1/queue/${joined.body.queue_ticket}/stream`, { headers: { 'x-user-id': buyer } }).then((r) => r.text());
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Progress is announced about once a second: at 2/s the buyer sees at least one step before the token.
    await openWaitingRoom(sessionId, { rate: 2 });
    const events = [...(await stream).matchAll(/^data: (.*)$/gm)].map((match) => JSON.parse(match[1]));
    const positions = events.filter((e) => e.status === 'QUEUED').map((e) => e.position as number);
    expect(positions[0]).toBe(4);
    expect(positions).toEqual([...positions].sort((x, y) => y - x));
    expect(positions.length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({ status: 'ADMITTED', admission: { token: expect.any(String) } });
  });

  it('when the last seat is sold, then every buyer still waiting is told SOLD_OUT, streams included', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    await openWaitingRoom(sessionId, { rate: 1 });
    const first = newUser();
    const token = await admitted(first, sessionId);
    // Slow the queue down so the others stay waiting.
    await openWaitingRoom(sessionId, { rate: 0.01 });
    const waiting = [newUser(), newUser(), newUser()];
    const tickets = await Promise.all(waiting.map(async (buyer) => (await join(booking.url, buyer, sessionId)).body.queue_ticket as string));
    const stream = fetch(`${booking.url}/api/v1/queue/${tickets[0]}/stream`, { headers: { 'x-user-id': waiting[0] } }).then((r) => r.text());

    const held = await reserve(booking.url, first, sessionId, seatIds, withToken(token));
    expect(held.status).toBe(201);
    expect((await confirm(booking.url, first, held.body.id)).status).toBe(200);
    // The consumer is not running here: the seat is marked sold as the event consumer would.
    await request(system.event.url, 'POST', `/api/internal/sessions/${sessionId}/seats/confirm`, {
      body: { reservation_id: held.body.id, session_seat_ids: seatIds },
    });

    const told = await eventually(async () => {
      const statuses = await Promise.all(waiting.map(async (buyer, i) => (await statusOf(booking.url, buyer, tickets[i])).body.status));
      return statuses.every((status) => status === 'SOLD_OUT');
    }, 10_000);
    expect(told).toBe(true);
    expect(await stream).toMatch(/"status":"SOLD_OUT"/);
    expect((await join(booking.url, newUser(), sessionId)).body.status).toBe('SOLD_OUT');
  });

  it('when the booking API restarts mid-queue and runs as two instances, then the queue continues and only one ticks', async () => {
    const { sessionId } = await createTestSession(system.event.url, { seats: 4 });
    await openWaitingRoom(sessionId, { opensInMs: 60_000 });
    const buyers = Array.from({ length: 5 }, () => newUser());
    const tickets = await Promise.all(buyers.map(async (buyer) => (await join(booking.url, buyer, sessionId)).body.queue_ticket as string));

    await stopBookingSide(booking);
    const [one, two] = [await startBooking(), await startBooking()];
    booking = one;
    expect((await statusOf(one.url, buyers[3], tickets[3])).body).toMatchObject({ status: 'WAITING_FOR_OPENING', waiting: 5 });
    await eventually(async () => one.admissionTicker!.isLeading() !== two.admissionTicker!.isLeading(), 5_000);
    expect([one.admissionTicker!.isLeading(), two.admissionTicker!.isLeading()].filter(Boolean)).toHaveLength(1);

    // Open now: the places drawn at opening are 1..5, whichever instance ticks.
    await openWaitingRoom(sessionId, { opensInMs: -1, rate: 0.01 });
    const positions = await eventually(async () => {
      const all = await Promise.all(buyers.map(async (buyer, i) => (await statusOf(two.url, buyer, tickets[i])).body.position as number | null));
      return all.every((p) => p !== null) ? all : undefined;
    }, 5_000);
    expect([...positions!].sort()).toEqual([1, 2, 3, 4, 5]);

    // The leader stops: the other instance takes over the lease.
    const [leader, follower] = one.admissionTicker!.isLeading() ? [one, two] : [two, one];
    await stopBookingSide(leader);
    booking = follower;
    expect(await eventually(async () => follower.admissionTicker!.isLeading(), 5_000)).toBe(true);
  });
});
