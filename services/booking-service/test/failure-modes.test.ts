import { randomUUID } from 'node:crypto';
import { startEventConsumer, type EventConsumer } from '../../event-service/src/entry-points/consumer';
import type { RunningBookingApi } from '../src/entry-points/api';
import { runExpirySweep } from '../src/entry-points/expire-reservations-main';
import { EVENT_TEST_DATABASE_URL, RABBITMQ_URL, silentLogLevel, uniqueBrokerNamespace } from '../../../test/support/infra';
import {
  asUser,
  confirmedPurchase,
  createTestSession,
  eventually,
  newUser,
  nukeNamespace,
  outboxRows,
  request,
  reserve,
  seatStates,
  startBookingSide,
  startEventSide,
  stopBookingSide,
  useBookingSystem,
} from './support/harness';
import { TcpProxy } from './support/tcp-proxy';

// Own database: a relay of another suite on booking_service_test would publish our rows to its namespace.
const system = useBookingSystem({ eventDb: true, privateDatabase: 'failures' });

const startConsumer = (namespace: string) =>
  startEventConsumer({
    DATABASE_URL: EVENT_TEST_DATABASE_URL,
    RABBITMQ_URL,
    METRICS_PORT: 0,
    HOST: '127.0.0.1',
    LOG_LEVEL: silentLogLevel as never,
    CONSUMER_RETRY_DELAY_MS: 100,
    brokerNamespace: namespace,
  });

describe('when the event service is down', () => {
  it('a reservation answers 503 EVENT_SERVICE_UNAVAILABLE and leaves no reservation and no hold', async () => {
    const downEvent = await startEventSide();
    const { sessionId, seatIds } = await createTestSession(downEvent.url, { seats: 2 });
    const booking = await startBookingSide(downEvent.url, { DATABASE_URL: system.privateDatabase.url, EVENT_SERVICE_TIMEOUT_MS: 500 });
    try {
      await downEvent.stop();
      const user = newUser();
      const response = await reserve(booking.url, user, sessionId, seatIds);
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('EVENT_SERVICE_UNAVAILABLE');

      expect((await request(booking.url, 'GET', '/api/v1/reservations', asUser(user))).body).toEqual([]);
      expect(await booking.db('reservations').where({ session_id: sessionId })).toEqual([]);
      expect(await booking.db('pending_holds').where({ session_id: sessionId })).toEqual([]);
      const states = await seatStates(system.eventDb, seatIds);
      expect([...states.values()].map((s) => s.status)).toEqual(['available', 'available']);

      // Once it is back, the same seats can be booked.
      expect((await reserve(booking.url, user, sessionId, seatIds)).status).toBe(503);
      const back = await startEventSide();
      const again = await startBookingSide(back.url, { DATABASE_URL: system.privateDatabase.url });
      try {
        expect((await reserve(again.url, user, sessionId, seatIds)).status).toBe(201);
      } finally {
        await stopBookingSide(again);
        await back.stop();
      }
    } finally {
      await stopBookingSide(booking);
    }
  });
});

describe('when writing the reservation fails after the hold was placed', () => {
  it('releases the hold at the event service (no orphan hold)', async () => {
    const booking = await startBookingSide(system.event.url, { DATABASE_URL: system.privateDatabase.url });
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 2 });
    // Make the reservation insert fail inside its transaction, after the event service placed the hold.
    const trigger = `fail_${randomUUID().replace(/-/g, '')}`;
    await booking.db.raw(`
      CREATE FUNCTION ${trigger}() RETURNS trigger AS $$
      BEGIN
        IF NEW.session_id = '${sessionId}' THEN RAISE EXCEPTION 'injected failure'; END IF;
        RETURN NEW;
      END $$ LANGUAGE plpgsql;
      CREATE TRIGGER ${trigger} BEFORE INSERT ON reservations FOR EACH ROW EXECUTE FUNCTION ${trigger}();
    `);
    try {
      const response = await reserve(booking.url, newUser(), sessionId, seatIds);
      expect(response.status).toBe(500);
      const states = await seatStates(system.eventDb, seatIds);
      expect([...states.values()].map((s) => [s.status, s.reservation_id])).toEqual([
        ['available', null],
        ['available', null],
      ]);
      expect(await booking.db('pending_holds').where({ session_id: sessionId })).toEqual([]);
    } finally {
      await booking.db.raw(`DROP TRIGGER ${trigger} ON reservations; DROP FUNCTION ${trigger}();`);
      await stopBookingSide(booking);
    }
  });
});

describe('a hold whose request died before writing the reservation', () => {
  it('is released by the expiry sweep through reservation.expired', async () => {
    const namespace = uniqueBrokerNamespace('booking-orphan');
    const consumer = await startConsumer(namespace);
    const booking = await startBookingSide(system.event.url, { DATABASE_URL: system.privateDatabase.url, OUTBOX_POLL_INTERVAL_MS: 100, brokerNamespace: namespace });
    try {
      const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
      // What a crash between "hold placed" and "reservation committed" leaves behind.
      const reservationId = randomUUID();
      await booking.db('pending_holds').insert({
        reservation_id: reservationId,
        user_id: newUser(),
        session_id: sessionId,
        session_seat_ids: booking.db.raw('?::uuid[]', [seatIds]),
        created_at: booking.db.raw(`now() - interval '1 hour'`),
      });
      const held = await request(system.event.url, 'POST', `/api/internal/sessions/${sessionId}/seats/reserve`, {
        body: { reservation_id: reservationId, session_seat_ids: seatIds, reserved_until: new Date(Date.now() + 600_000).toISOString() },
      });
      expect(held.status).toBe(200);

      const result = await runExpirySweep(booking.config);
      expect(result.abandonedHolds).toBeGreaterThanOrEqual(1);
      const [row] = await outboxRows(booking.db, reservationId);
      expect(row.payload).toMatchObject({ type: 'reservation.expired', data: { reservation_id: reservationId, reason: 'abandoned_hold' } });

      const freed = await eventually(async () => (await seatStates(system.eventDb, seatIds)).get(seatIds[0])?.status === 'available', 10_000);
      expect(freed).toBe(true);
      // The id is never reused: a late retry carrying it gets a fresh one.
      expect(await booking.db('pending_holds').where({ reservation_id: reservationId }).whereNotNull('abandoned_at')).toHaveLength(1);
    } finally {
      await stopBookingSide(booking);
      await consumer.stop();
      await nukeNamespace(namespace);
    }
  });
});

describe('when RabbitMQ is unreachable while confirming', () => {
  let proxy: TcpProxy;
  let consumer: EventConsumer;
  let booking: RunningBookingApi;
  const namespace = uniqueBrokerNamespace('booking-broker');

  beforeAll(async () => {
    const target = new URL(RABBITMQ_URL);
    proxy = await TcpProxy.create({ host: target.hostname, port: Number(target.port || 5672) });
    consumer = await startConsumer(namespace);
    const viaProxy = new URL(RABBITMQ_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    // The proxy is off: booking starts without a broker.
    booking = await startBookingSide(system.event.url, {
      DATABASE_URL: system.privateDatabase.url,
      RABBITMQ_URL: viaProxy.toString(),
      OUTBOX_POLL_INTERVAL_MS: 100,
      brokerNamespace: namespace,
    });
  });

  afterAll(async () => {
    await booking?.stop();
    await consumer?.stop();
    await proxy?.stop();
    await nukeNamespace(namespace);
  });

  async function confirmWhileBrokerDown() {
    const { seatIds, reservationId, confirmed } = await confirmedPurchase(system.event.url, booking.url);
    expect(confirmed.body.status).toBe('confirmed');
    // The API stays ready (the outbox carries the confirm); /ready only reports the broker.
    const ready = await request(booking.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.rabbitmq).toMatchObject({ status: 'down', required: false });
    // The row waits in the outbox, and the seat is still only reserved.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [row] = await outboxRows(booking.db, reservationId);
    expect(row).toMatchObject({ routing_key: 'reservation.confirmed', published_at: null });
    expect((await seatStates(system.eventDb, seatIds)).get(seatIds[0])?.status).toBe('reserved');
    return { reservationId, seatId: seatIds[0] };
  }

  async function expectPublishedAndSold(reservationId: string, seatId: string) {
    const published = await eventually(async () => (await outboxRows(booking.db, reservationId))[0]?.published_at, 20_000);
    expect(published).toBeTruthy();
    const sold = await eventually(async () => {
      const seat = (await seatStates(system.eventDb, [seatId])).get(seatId);
      return seat?.status === 'sold' && seat.reservation_id === reservationId;
    }, 10_000);
    expect(sold).toBe(true);
  }

  it('confirms anyway; the message goes out when the broker is reachable and the seat ends sold', async () => {
    const first = await confirmWhileBrokerDown();
    await proxy.start();
    await expectPublishedAndSold(first.reservationId, first.seatId);
    const ready = await request(booking.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.rabbitmq.status).toBe('up');
  }, 40_000);

  it('does the same after a connection that was up is lost', async () => {
    const brokerStatus = async () => (await request(booking.url, 'GET', '/ready')).body.checks.rabbitmq.status;
    await eventually(async () => (await brokerStatus()) === 'up', 20_000);
    await proxy.stop();
    await eventually(async () => (await brokerStatus()) === 'down', 10_000);
    const second = await confirmWhileBrokerDown();
    await proxy.start();
    await expectPublishedAndSold(second.reservationId, second.seatId);
  }, 40_000);
});
