/**
 * Issue 10 "A seat sold twice": an Idempotency-Key retry after the first attempt stalled past the lease took
 * over the same reservation id; the stalled attempt's compensation then released the retry's seats and
 * another buyer bought them. Replayed with two booking replicas on one database: replica A reaches the event
 * service through a proxy that stalls its requests, replica B directly.
 */
import { randomUUID } from 'node:crypto';
import { createBookingStore } from '../../services/booking-service/src/data-access/booking-store';
import type { RunningBookingApi } from '../../services/booking-service/src/entry-points/api';
import {
  createTestSession,
  eventually,
  newUser,
  request,
  reserve,
  seatStates,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from '../../services/booking-service/test/support/harness';
import { StallingProxy } from './support/stalling-proxy';

const system = useBookingSystem({ eventDb: true, privateDatabase: 'takeover' });
// Started in the describe's beforeAll, so they stop (its afterAll) before the system's afterAll drops the database.
let proxy: StallingProxy;
let replicaA: RunningBookingApi;
let replicaB: RunningBookingApi;
const withKey = (key: string) => ({ headers: { 'idempotency-key': key } });

/** Starts attempt A on the stalled replica and waits until it is inside its event-service call. */
async function stalledFirstAttempt(user: string, sessionId: string, seatIds: string[], key: string) {
  proxy.stall();
  const response = reserve(replicaA.url, user, sessionId, seatIds, withKey(key));
  const pending = await eventually(() => replicaA.db('pending_holds').where({ session_id: sessionId }).first(), 5_000);
  expect(pending).toBeTruthy();
  // The lease ran out (as after 30 s) and A's seat lock lapsed.
  await replicaA.db('idempotency_keys').where({ user_id: user, key }).update({ updated_at: replicaA.db.raw(`now() - interval '1 hour'`) });
  await new Promise((resolve) => setTimeout(resolve, 150));
  return { attemptId: pending.reservation_id as string, response };
}

async function holders(seatIds: string[]) {
  return [...(await seatStates(system.eventDb, seatIds)).values()].map((seat) => [seat.status, seat.reservation_id]);
}

describe('an Idempotency-Key retry after a stall', () => {
  beforeAll(async () => {
    const target = new URL(system.event.url);
    proxy = await StallingProxy.start({ host: target.hostname, port: Number(target.port) });
    // A's seat lock lapses quickly, as it would during a 30 s stall: the lock is not what keeps B out.
    replicaA = await startBookingSide(proxy.url, { DATABASE_URL: system.privateDatabase.url, EVENT_SERVICE_TIMEOUT_MS: 1_500, LOCK_TTL_MS: 100 });
    replicaB = await startBookingSide(system.event.url, { DATABASE_URL: system.privateDatabase.url, PAYMENT_SUCCESS_RATE: 1 });
  });
  afterAll(async () => {
    proxy?.resume();
    await stopBookingSide(replicaA);
    await stopBookingSide(replicaB);
    await proxy?.stop();
  });

  test('when the stalled first attempt gives up after the retry took over, then its compensation frees none of the retry’s seats and nobody else can buy them', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 2 });
    const user = newUser();
    const key = `key-${randomUUID()}`;
    const first = await stalledFirstAttempt(user, sessionId, seatIds, key);

    const retry = await reserve(replicaB.url, user, sessionId, seatIds, withKey(key));
    expect(retry.status).toBe(201);

    // A times out (its hold may have applied), tries to release under its own id and answers 503.
    expect((await first.response).status).toBe(503);
    proxy.resume();
    // A's held bytes arrive now: its reserve is refused (the seats are the retry's) and its releases free nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const release = await request(system.event.url, 'POST', `/api/internal/sessions/${sessionId}/seats/release`, {
      body: { reservation_id: first.attemptId, session_seat_ids: seatIds },
    });
    expect(release.status).toBe(200);
    expect(await holders(seatIds)).toEqual([
      ['reserved', retry.body.id],
      ['reserved', retry.body.id],
    ]);

    const tried = 5;
    const others = await Promise.all(Array.from({ length: tried }, () => reserve(replicaB.url, newUser(), sessionId, seatIds)));
    const refused = others.filter((response) => response.status === 409).length;
    const replay = await reserve(replicaB.url, user, sessionId, seatIds, withKey(key));
    expect([replay.status, replay.body.id]).toEqual([201, retry.body.id]);
    const confirmed = await request(replicaB.url, 'POST', `/api/v1/reservations/${retry.body.id}/confirm`, { headers: { 'x-user-id': user } });
    expect(confirmed.status).toBe(200);
    const live = await replicaB.db('reservations').where({ session_id: sessionId }).whereIn('status', ['active', 'confirmed']);
    const tickets = await replicaB.db('tickets').where({ session_id: sessionId, status: 'active' });
    console.log(
      `takeover: other buyers tried ${tried}, refused ${refused}; live reservations ${live.length}, live tickets ${tickets.length} for 2 seats; lost: 0`,
    );
    expect(refused).toBe(tried);
    expect(live.map((row: { id: string }) => row.id)).toEqual([retry.body.id]);
    expect(tickets).toHaveLength(2);
    // The fence: the retry never reused the stalled attempt's reservation id.
    expect(retry.body.id).not.toBe(first.attemptId);
  });

  test('when the stalled first attempt reaches the event service after the retry took over, then it is refused and the retry keeps its seats', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const user = newUser();
    const key = `key-${randomUUID()}`;
    const first = await stalledFirstAttempt(user, sessionId, seatIds, key);

    const retry = await reserve(replicaB.url, user, sessionId, seatIds, withKey(key));
    expect(retry.status).toBe(201);
    proxy.resume();
    const late = await first.response;
    expect([late.status, late.body.error.code]).toEqual([409, 'SEATS_UNAVAILABLE']);
    expect(await holders(seatIds)).toEqual([['reserved', retry.body.id]]);
    // A's failure did not end the retry's claim: the key still answers with the retry's reservation.
    const replay = await reserve(replicaB.url, user, sessionId, seatIds, withKey(key));
    expect([replay.status, replay.body.id]).toEqual([201, retry.body.id]);
  });

  test('when the stalled first attempt already holds the seats and resumes after the retry took over, then it cannot answer for the key and releases only its own hold', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const user = newUser();
    const key = `key-${randomUUID()}`;
    proxy.stallResponses();
    const first = reserve(replicaA.url, user, sessionId, seatIds, withKey(key));
    // The event service applied A's hold; A has not heard back.
    const heldByA = await eventually(async () => (await seatStates(system.eventDb, seatIds)).get(seatIds[0])?.reservation_id, 5_000);
    expect(heldByA).toBeTruthy();
    await replicaA.db('idempotency_keys').where({ user_id: user, key }).update({ updated_at: replicaA.db.raw(`now() - interval '1 hour'`) });
    await new Promise((resolve) => setTimeout(resolve, 150));

    // The retry may not adopt A's hold: it is a new attempt, and the seat is A's for now.
    const retry = await reserve(replicaB.url, user, sessionId, seatIds, withKey(key));
    expect([retry.status, retry.body.error.code]).toEqual([409, 'SEATS_UNAVAILABLE']);

    proxy.resume();
    const late = await first;
    expect([late.status, late.body.error.code]).toEqual([409, 'IDEMPOTENCY_ATTEMPT_SUPERSEDED']);
    expect(await replicaB.db('reservations').where({ session_id: sessionId })).toEqual([]);
    expect(await holders(seatIds)).toEqual([['available', null]]);

    // The next retry is a clean attempt and gets the seat; nobody else holds or bought it.
    const again = await reserve(replicaB.url, user, sessionId, seatIds, withKey(key));
    expect(again.status).toBe(201);
    expect(await holders(seatIds)).toEqual([['reserved', again.body.id]]);
    expect(again.body.id).not.toBe(heldByA);
  });

  test('when an attempt no longer owns the key, then it can neither store the key’s answer nor end the owner’s lease', async () => {
    const store = createBookingStore(replicaB.db);
    const user = newUser();
    const key = `key-${randomUUID()}`;
    const stale = randomUUID();
    const owner = randomUUID();
    await store.idempotency.insertClaim({ userId: user, key, requestHash: 'h', reservationId: stale });
    await store.idempotency.renew(user, key, owner);
    expect(await store.idempotency.complete(user, key, stale, 201, { id: stale })).toBe(false);
    expect(await store.idempotency.renewAttempt(user, key, stale, randomUUID())).toBe(false);
    await store.idempotency.abandon(user, key, stale);
    const row = await store.idempotency.lock(user, key, 30_000);
    expect(row).toMatchObject({ reservation_id: owner, response_status: null, leased: true });
    expect(await store.idempotency.complete(user, key, owner, 201, { id: owner })).toBe(true);
  });
});
