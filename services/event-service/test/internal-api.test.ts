import { randomUUID } from 'node:crypto';
import type { Knex } from '@ticketing/platform';
import type { EventApi } from '../src/entry-points/api';
import { request } from '../../../test/support/http';
import { startTestApi } from './support/api';
import { createSessionFixture, inMinutes, seatRows, type SessionFixture } from './support/fixtures';

let api: EventApi;
let db: Knex;
beforeAll(async () => {
  api = await startTestApi();
  db = api.db;
});
afterAll(async () => {
  await api?.stop();
});

const internal = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  request(api.url, method, `/api/internal${path}`, { body, headers });

describe('internal API', () => {
  let s: SessionFixture;
  beforeEach(async () => {
    s = await createSessionFixture(db, { rows: 2, seatsPerRow: 5 });
  });
  const reserve = (reservationId: string, seatIds: string[], reservedUntil = inMinutes(10)) =>
    internal('POST', `/sessions/${s.sessionId}/seats/reserve`, {
      reservation_id: reservationId,
      session_seat_ids: seatIds,
      reserved_until: reservedUntil.toISOString(),
    });
  const release = (reservationId: string, seatIds: string[]) =>
    internal('POST', `/sessions/${s.sessionId}/seats/release`, { reservation_id: reservationId, session_seat_ids: seatIds });
  const confirm = (reservationId: string, seatIds: string[]) =>
    internal('POST', `/sessions/${s.sessionId}/seats/confirm`, { reservation_id: reservationId, session_seat_ids: seatIds });

  describe('check-availability', () => {
    test('reports each seat’s status; seats of other sessions are not_found', async () => {
      const [a, b] = s.seatIds;
      await reserve(randomUUID(), [b]);
      const foreign = randomUUID();
      const response = await internal('POST', `/sessions/${s.sessionId}/seats/check-availability`, {
        session_seat_ids: [a, b, foreign],
      });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        available: false,
        seats: [
          { session_seat_id: a, status: 'available' },
          { session_seat_id: b, status: 'reserved' },
          { session_seat_id: foreign, status: 'not_found' },
        ],
      });
      const free = await internal('POST', `/sessions/${s.sessionId}/seats/check-availability`, { session_seat_ids: [a] });
      expect(free.body.available).toBe(true);
    });

    test('validates the id list and the session', async () => {
      const path = `/sessions/${s.sessionId}/seats/check-availability`;
      expect((await internal('POST', path, { session_seat_ids: [] })).status).toBe(422);
      expect((await internal('POST', path, { session_seat_ids: [s.seatIds[0], s.seatIds[0]] })).status).toBe(422);
      expect((await internal('POST', path, { session_seat_ids: ['nope'] })).status).toBe(422);
      expect(
        (await internal('POST', path, { session_seat_ids: Array.from({ length: 101 }, () => randomUUID()) })).status,
      ).toBe(422);
      expect((await internal('POST', path, {})).status).toBe(422);
      const unknown = await internal('POST', `/sessions/${randomUUID()}/seats/check-availability`, {
        session_seat_ids: [s.seatIds[0]],
      });
      expect(unknown.status).toBe(404);
    });
  });

  describe('pricing', () => {
    test('gives the base price and every seat’s price, or only the asked seats', async () => {
      const all = await internal('GET', `/sessions/${s.sessionId}/pricing`);
      expect(all.status).toBe(200);
      expect(all.body).toMatchObject({ session_id: s.sessionId, base_price: 100, currency: 'USD' });
      expect(all.body.seats).toHaveLength(10);
      const [a, b] = s.seatIds;
      const some = await internal('GET', `/sessions/${s.sessionId}/pricing?session_seat_ids=${b},${a}`);
      expect(some.body.seats).toEqual([
        { session_seat_id: b, price: 100 },
        { session_seat_id: a, price: 100 },
      ]);
    });

    test('unknown session or seats are 404, malformed ids 422', async () => {
      expect((await internal('GET', `/sessions/${randomUUID()}/pricing`)).status).toBe(404);
      const missing = randomUUID();
      const response = await internal('GET', `/sessions/${s.sessionId}/pricing?session_seat_ids=${s.seatIds[0]},${missing}`);
      expect(response.status).toBe(404);
      expect(response.body.error).toMatchObject({ code: 'SEATS_NOT_FOUND', details: { not_found: [missing] } });
      expect((await internal('GET', `/sessions/${s.sessionId}/pricing?session_seat_ids=x,y`)).status).toBe(422);
    });
  });

  describe('reserve', () => {
    test('holds all seats in one call and answers with prices and row/seat numbers', async () => {
      const reservationId = randomUUID();
      const until = inMinutes(10);
      const [a, b] = s.seatIds;
      const response = await reserve(reservationId, [b, a], until);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        reservation_id: reservationId,
        session_id: s.sessionId,
        reserved_until: until.toISOString(),
        session_start_time: expect.any(String),
        seats: [
          { session_seat_id: b, seat_id: expect.any(String), row_number: '1', seat_number: '2', seat_type: 'standard', price: 100, status: 'reserved' },
          { session_seat_id: a, seat_id: expect.any(String), row_number: '1', seat_number: '1', seat_type: 'standard', price: 100, status: 'reserved' },
        ],
      });
      const rows = await seatRows(db, [a, b]);
      expect(rows.every((row) => row.status === 'reserved' && row.reservation_id === reservationId)).toBe(true);
      expect(rows[0].reserved_until?.toISOString()).toBe(until.toISOString());
    });

    test('is all or nothing: one unavailable seat means no seat is held, and the 409 lists it', async () => {
      const [a, b, c] = s.seatIds;
      const holder = randomUUID();
      await reserve(holder, [b]);
      const loser = randomUUID();
      const response = await reserve(loser, [a, b, c]);
      expect(response.status).toBe(409);
      expect(response.body).toEqual({
        error: {
          code: 'SEATS_UNAVAILABLE',
          message: 'Seat already locked by another user',
          details: { unavailable: [{ session_seat_id: b, status: 'reserved' }] },
        },
      });
      expect((await seatRows(db, [a, b, c])).map((row) => row.reservation_id)).toEqual([null, holder, null]);
    });

    test('repeating it for the same reservation answers the same and changes nothing', async () => {
      const reservationId = randomUUID();
      const seats = s.seatIds.slice(0, 3);
      const first = await reserve(reservationId, seats, inMinutes(10));
      const before = await db('session_seats').whereIn('id', seats).orderBy('id');
      const again = await reserve(reservationId, seats, inMinutes(20));
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await db('session_seats').whereIn('id', seats).orderBy('id')).toEqual(before);
    });

    test('seats not in the session are a 409 listing them as not_found; an unknown session is 404', async () => {
      const foreign = randomUUID();
      const response = await reserve(randomUUID(), [s.seatIds[0], foreign]);
      expect(response.status).toBe(409);
      expect(response.body.error.details.unavailable).toEqual([{ session_seat_id: foreign, status: 'not_found' }]);
      expect((await seatRows(db, [s.seatIds[0]]))[0].status).toBe('available');
      const unknown = await internal('POST', `/sessions/${randomUUID()}/seats/reserve`, {
        reservation_id: randomUUID(),
        session_seat_ids: [s.seatIds[0]],
        reserved_until: inMinutes(10).toISOString(),
      });
      expect(unknown.status).toBe(404);
    });

    test('a session that has started cannot be reserved (409 SESSION_STARTED)', async () => {
      const started = await createSessionFixture(db, { rows: 1, seatsPerRow: 1, startsInMs: -60_000 });
      const response = await internal('POST', `/sessions/${started.sessionId}/seats/reserve`, {
        reservation_id: randomUUID(),
        session_seat_ids: started.seatIds,
        reserved_until: inMinutes(10).toISOString(),
      });
      expect(response.status).toBe(409);
      expect(response.body.error.code).toBe('SESSION_STARTED');
    });

    test('validates its body', async () => {
      const valid = { reservation_id: randomUUID(), session_seat_ids: [s.seatIds[0]], reserved_until: inMinutes(10).toISOString() };
      const path = `/sessions/${s.sessionId}/seats/reserve`;
      for (const bad of [
        { reservation_id: 'x' },
        { reservation_id: undefined },
        { session_seat_ids: [] },
        { session_seat_ids: [s.seatIds[0], s.seatIds[0]] },
        { reserved_until: 'soon' },
        { reserved_until: inMinutes(-1).toISOString() },
        { extra: 1 },
      ]) {
        expect({ bad, status: (await internal('POST', path, { ...valid, ...bad })).status }).toEqual({ bad, status: 422 });
      }
    });

    test('a hold does not lapse by itself when reserved_until passes: only a release frees it', async () => {
      const reservationId = randomUUID();
      const [a] = s.seatIds;
      await reserve(reservationId, [a], new Date(Date.now() + 1_000));
      await db('session_seats').where({ id: a }).update({ reserved_until: new Date(Date.now() - 60_000) });
      const other = await reserve(randomUUID(), [a]);
      expect(other.status).toBe(409);
      const sold = await confirm(reservationId, [a]);
      expect(sold.body.sold).toEqual([a]);
    });
  });

  describe('release and confirm', () => {
    test('release frees only the seats this reservation holds', async () => {
      const mine = randomUUID();
      const theirs = randomUUID();
      const [a, b, c] = s.seatIds;
      await reserve(mine, [a]);
      await reserve(theirs, [b]);
      const response = await release(mine, [a, b]);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ reservation_id: mine, released: [a] });
      expect((await seatRows(db, [a, b, c])).map((row) => [row.status, row.reservation_id, row.reserved_until])).toEqual([
        ['available', null, null],
        ['reserved', theirs, expect.any(Date)],
        ['available', null, null],
      ]);
      expect((await release(mine, [a])).body.released).toEqual([a]);
    });

    test('confirm sells only the seats this reservation holds and keeps the hold details', async () => {
      const mine = randomUUID();
      const theirs = randomUUID();
      const [a, b, c] = s.seatIds;
      await reserve(mine, [a]);
      await reserve(theirs, [b]);
      const response = await confirm(mine, [a, b, c]);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ reservation_id: mine, sold: [a] });
      const rows = await seatRows(db, [a, b, c]);
      expect(rows.map((row) => [row.status, row.reservation_id])).toEqual([
        ['sold', mine],
        ['reserved', theirs],
        ['available', null],
      ]);
      expect(rows[0].reserved_until).not.toBeNull();
      expect((await confirm(mine, [a])).body.sold).toEqual([a]);
      expect((await release(mine, [a])).body.released).toEqual([]);
      expect((await seatRows(db, [a]))[0].status).toBe('sold');
    });

    test('another reservation cannot release or confirm a hold', async () => {
      const holder = randomUUID();
      const [a] = s.seatIds;
      await reserve(holder, [a]);
      expect((await release(randomUUID(), [a])).body.released).toEqual([]);
      expect((await confirm(randomUUID(), [a])).body.sold).toEqual([]);
      expect((await seatRows(db, [a]))[0]).toMatchObject({ status: 'reserved', reservation_id: holder });
    });

    test('unknown session is 404 and bodies are validated', async () => {
      const unknown = await internal('POST', `/sessions/${randomUUID()}/seats/release`, {
        reservation_id: randomUUID(),
        session_seat_ids: [s.seatIds[0]],
      });
      expect(unknown.status).toBe(404);
      expect((await internal('POST', `/sessions/${s.sessionId}/seats/confirm`, { reservation_id: randomUUID() })).status).toBe(
        422,
      );
    });
  });

  test('GET /api/internal/health answers', async () => {
    expect((await internal('GET', '/health')).body).toEqual({ status: 'ok' });
  });
});

describe('internal token', () => {
  let secured: EventApi;
  beforeAll(async () => {
    secured = await startTestApi({ INTERNAL_API_TOKEN: 's3cret-token' });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  test('is required on every internal route when configured, and compared exactly', async () => {
    const s = await createSessionFixture(db, { rows: 1, seatsPerRow: 1 });
    const path = `/api/internal/sessions/${s.sessionId}/seats/check-availability`;
    const body = { session_seat_ids: s.seatIds };
    const without = await request(secured.url, 'POST', path, { body });
    expect(without.status).toBe(401);
    expect(without.body.error.code).toBe('INVALID_INTERNAL_TOKEN');
    for (const token of ['wrong', 's3cret-token2', 's3cret-toke', 'S3CRET-TOKEN']) {
      expect((await request(secured.url, 'POST', path, { body, headers: { 'X-Internal-Token': token } })).status).toBe(401);
    }
    expect((await request(secured.url, 'GET', '/api/internal/health')).status).toBe(401);
    const allowed = await request(secured.url, 'POST', path, { body, headers: { 'X-Internal-Token': 's3cret-token' } });
    expect(allowed.status).toBe(200);
    expect((await request(secured.url, 'GET', `/api/v1/sessions/${s.sessionId}/seat-map`)).status).toBe(200);
  });
});
