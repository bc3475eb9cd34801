/**
 * Issue 10, "holds that never lapse at the event service": seats stayed `reserved` past `reserved_until` when
 * booking never released them. The event consumer now returns lapsed holds to sale itself, after asking
 * booking what became of each reservation; it never releases the seats of a reservation booking confirmed
 * (its reservation.confirmed may be stuck in a broker outage), and releases nothing while booking is down.
 *
 * Real Postgres (private databases), Redis and RabbitMQ; event API, event consumer and booking API in-process.
 * The consumer listens on a different RabbitMQ namespace than booking publishes to: booking's messages never
 * arrive, as in a long broker outage.
 */
import { randomUUID } from 'node:crypto';
import { BrokerAsPromised } from 'rascal';
import { brokerConfig, createDatabase, type Knex } from '@ticketing/platform';
import { migrateEventDatabase } from '../../services/event-service/src/data-access/database';
import { startEventApi, type EventApi } from '../../services/event-service/src/entry-points/api';
import { startEventConsumer, type EventConsumer } from '../../services/event-service/src/entry-points/consumer';
import { startBookingApi, type RunningBookingApi } from '../../services/booking-service/src/entry-points/api';
import { migrateBookingDatabase } from '../../services/booking-service/src/data-access/database';
import { buildCatalog } from '../../services/event-service/test/support/api';
import { dropDatabase } from '../support/databases';
import { request } from '../support/http';
import { POSTGRES_URL, RABBITMQ_URL, REDIS_URL, silentLogLevel, testDatabaseName, uniqueBrokerNamespace } from '../support/infra';

const TOKEN = 'lapsed-holds-test-internal-token-0123456789';
const TTL_SECONDS = 2;
const run = randomUUID().slice(0, 8);
const EVENT_DB = testDatabaseName(`event_lapsed_${run}`);
const BOOKING_DB = testDatabaseName(`booking_lapsed_${run}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let eventApi: EventApi;
let booking: RunningBookingApi;
let consumer: EventConsumer;
let bookingDb: Knex;
const namespaces: string[] = [];
const namespace = (label: string) => {
  const name = uniqueBrokerNamespace(label);
  namespaces.push(name);
  return name;
};
const common = { LOG_LEVEL: silentLogLevel, HOST: '127.0.0.1', PORT: 0, INTERNAL_API_TOKEN: TOKEN } as const;

beforeAll(async () => {
  await Promise.all([migrateEventDatabase(`${POSTGRES_URL}/${EVENT_DB}`), migrateBookingDatabase(`${POSTGRES_URL}/${BOOKING_DB}`)]);
  eventApi = await startEventApi({ ...common, DATABASE_URL: `${POSTGRES_URL}/${EVENT_DB}`, SEAT_MAP_CACHE_MS: 0 });
  booking = await startBookingApi({
    ...common,
    DATABASE_URL: `${POSTGRES_URL}/${BOOKING_DB}`,
    REDIS_URL,
    RABBITMQ_URL,
    EVENT_SERVICE_URL: eventApi.url,
    RESERVATION_TTL_SECONDS: TTL_SECONDS,
    EXPIRY_SWEEP_INTERVAL_SECONDS: 0, // booking's own sweep never runs: the holds are left to lapse
    PAYMENT_SUCCESS_RATE: 1,
    brokerNamespace: namespace('lapsed-booking'),
  });
  consumer = await lapsedHoldConsumer(booking.url);
  bookingDb = createDatabase({ url: `${POSTGRES_URL}/${BOOKING_DB}`, poolMax: 2 });
});

afterAll(async () => {
  await consumer?.stop();
  await booking?.stop();
  await eventApi?.stop();
  await bookingDb?.destroy();
  await Promise.all([dropDatabase(EVENT_DB), dropDatabase(BOOKING_DB)]);
  for (const name of namespaces) await (await BrokerAsPromised.create(brokerConfig({ url: RABBITMQ_URL, namespace: name }))).nuke();
});

/** An event consumer that never sees booking's messages, checking lapsed holds only when told to. */
const lapsedHoldConsumer = (bookingUrl: string) =>
  startEventConsumer({
    ...common,
    DATABASE_URL: `${POSTGRES_URL}/${EVENT_DB}`,
    METRICS_PORT: 0,
    RABBITMQ_URL,
    brokerNamespace: namespace('lapsed-consumer'),
    BOOKING_SERVICE_URL: bookingUrl,
    LAPSED_HOLD_GRACE_SECONDS: 0,
    LAPSED_HOLD_CHECK_INTERVAL_SECONDS: 0,
  });

async function seatStatuses(sessionId: string): Promise<Map<string, string>> {
  const response = await request(eventApi.url, 'GET', `/api/v1/sessions/${sessionId}/seats`);
  return new Map(response.body.map((seat: any) => [seat.session_seat_id, seat.status]));
}

async function reserveThroughBooking(userId: string, sessionId: string, seatIds: string[]) {
  const response = await request(booking.url, 'POST', '/api/v1/reservations', {
    headers: { 'X-User-ID': userId },
    body: { session_id: sessionId, seats: seatIds.map((id) => ({ session_seat_id: id })) },
  });
  expect(response.status).toBe(201);
  return response.body;
}

async function metric(consumerUrl: string, name: string, outcome: string): Promise<number> {
  const text = (await request(consumerUrl, 'GET', '/metrics')).body as string;
  const line = text.split('\n').find((row) => row.startsWith(`${name}{`) && row.includes(`outcome="${outcome}"`));
  return Number(line?.split(' ').pop() ?? 0);
}

const waitForLapse = () => sleep(TTL_SECONDS * 1000 + 300);

describe('lapsed holds at the event service', () => {
  test('when booking confirmed a reservation whose message never arrived, then its lapsed seats are sold, never released', async () => {
    const { session } = await buildCatalog(eventApi.url);
    const seats = [...(await seatStatuses(session.id)).keys()].slice(0, 2);
    const reservation = await reserveThroughBooking(randomUUID(), session.id, seats);
    const confirm = await request(booking.url, 'POST', `/api/v1/reservations/${reservation.id}/confirm`, {
      headers: { 'X-User-ID': reservation.user_id },
      body: { payment_id: `pay-${randomUUID()}` },
    });
    expect(confirm.status).toBe(200);
    await waitForLapse();
    const before = await seatStatuses(session.id);
    expect(seats.map((id) => before.get(id))).toEqual(['reserved', 'reserved']); // the message never came

    await consumer.checkLapsedHolds();
    const after = await seatStatuses(session.id);
    const lost = seats.filter((id) => after.get(id) === 'available').length;
    console.log(`confirmed reservation, message lost: seats tried 2, released 0, sold ${seats.filter((id) => after.get(id) === 'sold').length}, lost: ${lost}`);
    expect(seats.map((id) => after.get(id))).toEqual(['sold', 'sold']);
    expect(lost).toBe(0);

    // Another buyer cannot take them.
    const thief = await request(booking.url, 'POST', '/api/v1/reservations', {
      headers: { 'X-User-ID': randomUUID() },
      body: { session_id: session.id, seats: [{ session_seat_id: seats[0] }] },
    });
    expect(thief.status).toBe(409);
  });

  test('when a hold was abandoned (booking expired it, or never knew it), then its seats return to sale and booking publishes the expiry', async () => {
    const { session } = await buildCatalog(eventApi.url);
    const [forgotten, orphan, untouched] = [...(await seatStatuses(session.id)).keys()];
    const reservation = await reserveThroughBooking(randomUUID(), session.id, [forgotten]);
    // A hold booking has no record of (its request crashed before writing the reservation).
    const orphanHold = await request(eventApi.url, 'POST', `/api/internal/sessions/${session.id}/seats/reserve`, {
      headers: { 'X-Internal-Token': TOKEN },
      body: { reservation_id: randomUUID(), session_seat_ids: [orphan], reserved_until: new Date(Date.now() + 1_000).toISOString() },
    });
    expect(orphanHold.status).toBe(200);
    // A live hold of another buyer, made after the others: not lapsed, not touched.
    await waitForLapse();
    const live = await reserveThroughBooking(randomUUID(), session.id, [untouched]);
    const releasedBefore = await metric(consumer.url, 'lapsed_holds_total', 'released');

    await consumer.checkLapsedHolds();
    const after = await seatStatuses(session.id);
    expect(after.get(forgotten)).toBe('available');
    expect(after.get(orphan)).toBe('available');
    expect(after.get(untouched)).toBe('reserved');
    expect(await metric(consumer.url, 'lapsed_holds_total', 'released')).toBeGreaterThanOrEqual(releasedBefore + 2);

    const view = await request(booking.url, 'GET', `/api/v1/reservations/${reservation.id}`, { headers: { 'X-User-ID': reservation.user_id } });
    expect(view.body.status).toBe('expired');
    const outbox = await bookingDb('outbox').where('routing_key', 'reservation.expired').whereRaw(`payload->'data'->>'reservation_id' = ?`, [reservation.id]);
    expect(outbox).toHaveLength(1);
    // The expired hold can no longer be confirmed: no sale of a seat that went back on sale.
    const lateConfirm = await request(booking.url, 'POST', `/api/v1/reservations/${reservation.id}/confirm`, {
      headers: { 'X-User-ID': reservation.user_id },
      body: { payment_id: `pay-${randomUUID()}` },
    });
    expect(lateConfirm.status).toBe(410);
    expect(live.status).toBe('active');
  });

  test('when the booking service cannot be reached, then no lapsed hold is released and the check is counted', async () => {
    const { session } = await buildCatalog(eventApi.url);
    const seats = [...(await seatStatuses(session.id)).keys()].slice(0, 3);
    const reservations = [];
    for (const seat of seats) reservations.push(await reserveThroughBooking(randomUUID(), session.id, [seat]));
    await waitForLapse();
    const blind = await lapsedHoldConsumer('http://127.0.0.1:9'); // nothing listens on the discard port
    try {
      await blind.checkLapsedHolds();
      const after = await seatStatuses(session.id);
      const released = seats.filter((id) => after.get(id) === 'available').length;
      console.log(`booking unreachable: lapsed holds tried ${seats.length}, released ${released}, kept ${seats.length - released}`);
      expect(released).toBe(0);
      expect(await metric(blind.url, 'lapsed_holds_total', 'unchecked')).toBeGreaterThanOrEqual(seats.length);
    } finally {
      await blind.stop();
    }
    // Once booking answers again, they are released.
    await consumer.checkLapsedHolds();
    const healed = await seatStatuses(session.id);
    expect(seats.map((id) => healed.get(id))).toEqual(['available', 'available', 'available']);
  });

  test('when the status route is called without the internal token, then it is refused (401)', async () => {
    const anonymous = await request(booking.url, 'POST', '/api/internal/reservations/status', {
      body: { reservation_ids: [randomUUID()] },
    });
    expect(anonymous.status).toBe(401);
    const forged = await request(booking.url, 'POST', '/api/internal/reservations/status', {
      headers: { 'X-Internal-Token': 'guess' },
      body: { reservation_ids: [randomUUID()] },
    });
    expect(forged.status).toBe(401);
    const insider = await request(booking.url, 'POST', '/api/internal/reservations/status', {
      headers: { 'X-Internal-Token': TOKEN },
      body: { reservation_ids: [randomUUID()] },
    });
    expect(insider.status).toBe(200);
    expect(insider.body.reservations[0].status).toBe('unknown');
  });
});
