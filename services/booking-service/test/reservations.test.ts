import { randomUUID } from 'node:crypto';
import {
  asUser,
  createTestSession,
  expireNow,
  newUser,
  outboxRows,
  request,
  reserve,
  seatStates,
  useBookingSystem,
} from './support/harness';

const system = useBookingSystem({ booking: true, eventDb: true });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('POST /api/v1/reservations', () => {
  test('when the seats are free, then they are held and the answer is 201 in the seed’s shape, with labels and prices from the event service', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 5 });
    const tier = await request(system.booking.url, 'POST', '/api/v1/price-tiers', {
      body: { session_id: sessionId, name: 'Standard', multiplier: 1 },
    });
    expect(tier.status).toBe(201);
    const user = newUser();
    const seat = seatIds[3];

    const response = await request(system.booking.url, 'POST', '/api/v1/reservations', {
      ...asUser(user),
      // The client's row/seat numbers are ignored: the event service's are authoritative.
      body: { session_id: sessionId, seats: [{ session_seat_id: seat, row_number: '9', seat_number: 99, price_tier_id: tier.body.id }] },
    });

    expect(response.status).toBe(201);
    const body = response.body;
    expect(body).toEqual({
      id: expect.stringMatching(UUID),
      user_id: user,
      session_id: sessionId,
      booking_time: expect.any(String),
      expiry_time: expect.any(String),
      seats_count: 1,
      total_amount: 100,
      status: 'active',
      items: [
        {
          id: expect.stringMatching(UUID),
          session_seat_id: seat,
          row_number: '1',
          seat_number: '4',
          price: 100,
          discount_amount: 0,
          final_price: 100,
          price_tier_id: tier.body.id,
        },
      ],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      time_remaining_seconds: 600,
    });
    expect(new Date(body.expiry_time).getTime() - new Date(body.booking_time).getTime()).toBe(600_000);

    const states = await seatStates(system.eventDb, [seat]);
    expect(states.get(seat)).toMatchObject({ status: 'reserved', reservation_id: body.id });

    const fetched = await request(system.booking.url, 'GET', `/api/v1/reservations/${body.id}`, asUser(user));
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ id: body.id, status: 'active', items: body.items, tickets: [] });
    expect(fetched.body.time_remaining_seconds).toBeGreaterThan(590);
    expect(fetched.body.time_remaining_seconds).toBeLessThanOrEqual(600);
  });

  test('when seats name price tiers, then each is priced with its tier exactly to the cent', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 3, price: 19.99 });
    const student = await request(system.booking.url, 'POST', '/api/v1/price-tiers', {
      body: { name: 'Third', multiplier: 0.3333, description: 'global tier' },
    });
    expect(student.status).toBe(201);
    expect(student.body).toMatchObject({ session_id: null, multiplier: 0.3333 });

    const response = await request(system.booking.url, 'POST', '/api/v1/reservations', {
      ...asUser(newUser()),
      body: {
        session_id: sessionId,
        seats: [
          { session_seat_id: seatIds[0], price_tier_id: student.body.id },
          { session_seat_id: seatIds[1], price_tier_id: student.body.id },
          { session_seat_id: seatIds[2] },
        ],
      },
    });
    expect(response.status).toBe(201);
    expect(response.body.items.map((item: any) => [item.price, item.discount_amount, item.final_price])).toEqual([
      [19.99, 13.33, 6.66],
      [19.99, 13.33, 6.66],
      [19.99, 0, 19.99],
    ]);
    expect(response.body.total_amount).toBe(33.31);
    expect(response.body.seats_count).toBe(3);
  });

  test('when a user lists reservations, then only theirs come back, newest first, paginated', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 3 });
    const user = newUser();
    const first = await reserve(system.booking.url, user, sessionId, [seatIds[0]]);
    const second = await reserve(system.booking.url, user, sessionId, [seatIds[1]]);
    await reserve(system.booking.url, newUser(), sessionId, [seatIds[2]]);

    const list = await request(system.booking.url, 'GET', '/api/v1/reservations', asUser(user));
    expect(list.status).toBe(200);
    expect(list.body.map((r: any) => r.id)).toEqual([second.body.id, first.body.id]);
    const page = await request(system.booking.url, 'GET', '/api/v1/reservations?limit=1&offset=1', asUser(user));
    expect(page.body.map((r: any) => r.id)).toEqual([first.body.id]);
    expect((await request(system.booking.url, 'GET', '/api/v1/reservations?limit=0', asUser(user))).status).toBe(422);
  });
});

describe('caller identity on the reservation routes', () => {
  test('when X-User-ID is missing or not a UUID, then 401', async () => {
    const missing = await request(system.booking.url, 'GET', '/api/v1/reservations');
    expect(missing.status).toBe(401);
    expect(missing.body.error.code).toBe('UNAUTHENTICATED');
    const malformed = await request(system.booking.url, 'POST', '/api/v1/reservations', {
      headers: { 'x-user-id': 'alice' },
      body: { session_id: randomUUID(), seats: [{ session_seat_id: randomUUID() }] },
    });
    expect(malformed.status).toBe(401);
    expect(malformed.body.error.code).toBe('UNAUTHENTICATED');
  });

  test('when another user asks for a reservation, then it is hidden (404) and cannot be confirmed or cancelled', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const owner = newUser();
    const created = await reserve(system.booking.url, owner, sessionId, seatIds);
    const intruder = newUser();
    const path = `/api/v1/reservations/${created.body.id}`;
    expect((await request(system.booking.url, 'GET', path, asUser(intruder))).status).toBe(404);
    expect((await request(system.booking.url, 'DELETE', path, asUser(intruder))).status).toBe(404);
    const confirm = await request(system.booking.url, 'POST', `${path}/confirm`, { ...asUser(intruder), body: { payment_id: 'p-1' } });
    expect(confirm.status).toBe(404);
    const list = await request(system.booking.url, 'GET', '/api/v1/reservations', asUser(intruder));
    expect(list.body).toEqual([]);
    expect((await request(system.booking.url, 'GET', path, asUser(owner))).body.status).toBe('active');
  });

  test('when the OpenAPI document is read, then X-User-ID is declared as an apiKey security scheme', async () => {
    const doc = await request(system.booking.url, 'GET', '/openapi.json');
    expect(doc.body.components.securitySchemes.userId).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-User-ID' });
    expect(doc.body.paths['/api/v1/reservations'].post.security).toEqual([{ userId: [] }]);
    expect(doc.body.paths['/api/v1/reservations'].post.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]),
    );
  });
});

describe('POST /api/v1/reservations refusals', () => {
  const user = newUser();
  const post = (body: unknown) => request(system.booking.url, 'POST', '/api/v1/reservations', { ...asUser(user), body });

  test('when the body is malformed, repeats a seat, has too many seats or unknown fields, then 422', async () => {
    const session = randomUUID();
    const seat = randomUUID();
    const cases: unknown[] = [
      {},
      { session_id: 'nope', seats: [{ session_seat_id: seat }] },
      { session_id: session, seats: [] },
      { session_id: session, seats: [{ session_seat_id: seat }, { session_seat_id: seat }] },
      { session_id: session, seats: Array.from({ length: 11 }, () => ({ session_seat_id: randomUUID() })) },
      { session_id: session, seats: [{ session_seat_id: seat, prise_tier_id: randomUUID() }] },
      { session_id: session, seats: [{ session_seat_id: seat }], user_id: randomUUID() },
      { session_id: session, seats: 'all of them' },
    ];
    for (const body of cases) {
      const response = await post(body);
      expect([response.status, response.body.error?.code]).toEqual([422, 'VALIDATION_ERROR']);
    }
    const notJson = await request(system.booking.url, 'POST', '/api/v1/reservations', { ...asUser(user), rawBody: '{"session_id":' });
    expect(notJson.status).toBe(400);
  });

  test('when a price tier is unknown or belongs to another session, then 422 and nothing is held', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const other = await request(system.booking.url, 'POST', '/api/v1/price-tiers', {
      body: { session_id: randomUUID(), name: 'Elsewhere', multiplier: 0.5 },
    });
    for (const tierId of [randomUUID(), other.body.id]) {
      const response = await reserve(system.booking.url, user, sessionId, seatIds, { priceTierId: tierId });
      expect([response.status, response.body.error.code]).toEqual([422, 'INVALID_PRICE_TIER']);
    }
    expect((await seatStates(system.eventDb, seatIds)).get(seatIds[0])?.status).toBe('available');
  });

  test('when the session is unknown, then 404; when someone holds the seat, then 409 SEATS_UNAVAILABLE', async () => {
    const unknown = await reserve(system.booking.url, user, randomUUID(), [randomUUID()]);
    expect(unknown.status).toBe(404);

    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 2 });
    expect((await reserve(system.booking.url, newUser(), sessionId, [seatIds[0]])).status).toBe(201);
    const taken = await reserve(system.booking.url, user, sessionId, [seatIds[1], seatIds[0]]);
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({
      code: 'SEATS_UNAVAILABLE',
      message: 'Seat already locked by another user',
      details: { unavailable: [{ session_seat_id: seatIds[0], status: 'reserved' }] },
    });
    // All or nothing: the free seat of the refused request is not held.
    expect((await seatStates(system.eventDb, [seatIds[1]])).get(seatIds[1])?.status).toBe('available');

    const notInSession = await reserve(system.booking.url, user, sessionId, [randomUUID()]);
    expect(notInSession.status).toBe(409);
    expect(notInSession.body.error.details.unavailable[0].status).toBe('not_found');
  });

  test('when the session has begun, then 409 SESSION_STARTED', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1, startsInHours: -1 });
    const response = await reserve(system.booking.url, user, sessionId, seatIds);
    expect([response.status, response.body.error.code]).toEqual([409, 'SESSION_STARTED']);
  });

  test('when a reservation id is malformed, then 404', async () => {
    expect((await request(system.booking.url, 'GET', '/api/v1/reservations/not-a-uuid', asUser(user))).status).toBe(404);
  });
});

describe('DELETE /api/v1/reservations/:id', () => {
  test('when the hold is active, then it is cancelled with reservation.cancelled in the outbox, and a repeat answers the same', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 2 });
    const user = newUser();
    const created = await reserve(system.booking.url, user, sessionId, seatIds);
    const path = `/api/v1/reservations/${created.body.id}`;

    const cancelled = await request(system.booking.url, 'DELETE', path, asUser(user));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: created.body.id, status: 'cancelled', time_remaining_seconds: 0 });
    const rows = await outboxRows(system.booking.db, created.body.id);
    expect(rows.map((row: any) => row.routing_key)).toEqual(['reservation.cancelled']);
    expect(rows[0].payload).toMatchObject({
      id: rows[0].id,
      type: 'reservation.cancelled',
      data: { reservation_id: created.body.id, session_id: sessionId, user_id: user, session_seat_ids: seatIds },
    });

    const again = await request(system.booking.url, 'DELETE', path, asUser(user));
    expect([again.status, again.body.status]).toEqual([200, 'cancelled']);
    expect(await outboxRows(system.booking.db, created.body.id)).toHaveLength(1);
    const confirm = await request(system.booking.url, 'POST', `${path}/confirm`, { ...asUser(user), body: { payment_id: 'x' } });
    expect([confirm.status, confirm.body.error.code]).toEqual([409, 'RESERVATION_CANCELLED']);
  });

  test('when the hold has expired, then 410', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const user = newUser();
    const created = await reserve(system.booking.url, user, sessionId, seatIds);
    await expireNow(system.booking.db, created.body.id);
    const response = await request(system.booking.url, 'DELETE', `/api/v1/reservations/${created.body.id}`, asUser(user));
    expect([response.status, response.body.error.code]).toEqual([410, 'RESERVATION_EXPIRED']);
    const fetched = await request(system.booking.url, 'GET', `/api/v1/reservations/${created.body.id}`, asUser(user));
    expect(fetched.body).toMatchObject({ status: 'active', time_remaining_seconds: 0 });
  });
});

describe('POST /api/v1/reservations with an Idempotency-Key', () => {
  test('when the same key and body come again, then the first answer is replayed without booking twice', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const user = newUser();
    const key = `key-${randomUUID()}`;
    const first = await reserve(system.booking.url, user, sessionId, seatIds, { headers: { 'idempotency-key': key } });
    const again = await reserve(system.booking.url, user, sessionId, seatIds, { headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect((await request(system.booking.url, 'GET', '/api/v1/reservations', asUser(user))).body).toHaveLength(1);
  });

  test('when the same key comes with a different body, then 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 2 });
    const user = newUser();
    const key = `key-${randomUUID()}`;
    expect((await reserve(system.booking.url, user, sessionId, [seatIds[0]], { headers: { 'idempotency-key': key } })).status).toBe(201);
    const reused = await reserve(system.booking.url, user, sessionId, [seatIds[1]], { headers: { 'idempotency-key': key } });
    expect([reused.status, reused.body.error.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    expect((await seatStates(system.eventDb, [seatIds[1]])).get(seatIds[1])?.status).toBe('available');
  });

  test('when duplicates of one request arrive at the same time, then it books once', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const user = newUser();
    const key = `key-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => reserve(system.booking.url, user, sessionId, seatIds, { headers: { 'idempotency-key': key } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect((await request(system.booking.url, 'GET', '/api/v1/reservations', asUser(user))).body).toHaveLength(1);
  });

  test('when the first attempt failed, then a retry goes ahead; keys are scoped per user', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const key = `key-${randomUUID()}`;
    const blocker = newUser();
    const held = await reserve(system.booking.url, blocker, sessionId, seatIds);
    const user = newUser();
    const refused = await reserve(system.booking.url, user, sessionId, seatIds, { headers: { 'idempotency-key': key } });
    expect(refused.status).toBe(409);
    // Free the seat the way the consumer would after the blocker cancels (no consumer runs in this file).
    const released = await request(system.event.url, 'POST', `/api/internal/sessions/${sessionId}/seats/release`, {
      body: { reservation_id: held.body.id, session_seat_ids: seatIds },
    });
    expect(released.status).toBe(200);

    const retried = await reserve(system.booking.url, user, sessionId, seatIds, { headers: { 'idempotency-key': key } });
    expect(retried.status).toBe(201);
    expect((await reserve(system.booking.url, newUser(), sessionId, seatIds, { headers: { 'idempotency-key': key } })).status).toBe(409);
  });

  test('when the key is longer than 255 characters, then 422', async () => {
    const response = await reserve(system.booking.url, newUser(), randomUUID(), [randomUUID()], { headers: { 'idempotency-key': 'k'.repeat(256) } });
    expect(response.status).toBe(422);
  });
});
