/**
 * Integration test harness: the REAL event service API (in-process, port 0, event_service_test) and the
 * booking API (port 0, booking_service_test or a private database), with Redis and RabbitMQ (unique namespace).
 */
import { randomUUID } from 'node:crypto';
import { dropDatabase } from '../../../../test/support/databases';
import { BrokerAsPromised } from 'rascal';
import { brokerConfig, createDatabase, type Knex } from '@ticketing/platform';
import { migrateEventDatabase } from '../../../event-service/src/data-access/database';
import { startEventApi, type EventApi } from '../../../event-service/src/entry-points/api';
import { startBookingApi, type BookingApiOverrides, type RunningBookingApi } from '../../src/entry-points/api';
import { migrateBookingDatabase } from '../../src/data-access/database';
import { paymentScore } from '../../src/domain/payment-provider';
import {
  BOOKING_TEST_DATABASE_URL,
  EVENT_TEST_DATABASE_URL,
  POSTGRES_URL,
  RABBITMQ_URL,
  REDIS_URL,
  silentLogLevel,
  uniqueBrokerNamespace,
} from '../../../../test/support/infra';
import { request } from '../../../../test/support/http';

export { request, eventually } from '../../../../test/support/http';

export async function startEventSide(): Promise<EventApi> {
  await migrateEventDatabase(EVENT_TEST_DATABASE_URL);
  return startEventApi({ PORT: 0, HOST: '127.0.0.1', DATABASE_URL: EVENT_TEST_DATABASE_URL, LOG_LEVEL: silentLogLevel as never });
}

const namespaces = new WeakMap<RunningBookingApi, string>();

export async function startBookingSide(eventUrl: string, overrides: BookingApiOverrides = {}): Promise<RunningBookingApi> {
  const databaseUrl = overrides.DATABASE_URL ?? BOOKING_TEST_DATABASE_URL;
  const brokerNamespace = overrides.brokerNamespace ?? uniqueBrokerNamespace('booking');
  await migrateBookingDatabase(databaseUrl);
  const booking = await startBookingApi({
    PORT: 0,
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    RABBITMQ_URL,
    EVENT_SERVICE_URL: eventUrl,
    LOG_LEVEL: silentLogLevel as never,
    EXPIRY_SWEEP_INTERVAL_SECONDS: 0,
    PAYMENT_SUCCESS_RATE: 0.5,
    ...overrides,
    brokerNamespace,
  });
  namespaces.set(booking, brokerNamespace);
  return booking;
}

/** Stops the booking API and deletes the RabbitMQ exchanges and queues of its test namespace. */
export async function stopBookingSide(booking: RunningBookingApi | undefined): Promise<void> {
  if (!booking) return;
  await booking.stop();
  const namespace = namespaces.get(booking);
  if (namespace) await nukeNamespace(namespace);
}

export async function nukeNamespace(namespace: string): Promise<void> {
  const broker = await BrokerAsPromised.create(brokerConfig({ url: RABBITMQ_URL, namespace }));
  await broker.nuke();
}

/**
 * A booking database of the test file's own, for tests whose assertions a relay or sweep of another suite
 * running concurrently on booking_service_test could disturb (it would publish our rows to its namespace).
 */
export async function privateBookingDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `booking_service_test_${label}_${randomUUID().slice(0, 8)}`.replace(/[^a-z0-9_]/g, '_');
  const url = `${POSTGRES_URL}/${name}`;
  await migrateBookingDatabase(url);
  return {
    url,
    drop: () => dropDatabase(name),
  };
}

export const eventTestDatabase = () => createDatabase({ url: EVENT_TEST_DATABASE_URL, poolMax: 4 });

export type PrivateBookingDatabase = Awaited<ReturnType<typeof privateBookingDatabase>>;

export interface BookingSystemOptions {
  /** A booking API on booking_service_test (startBookingSide), talking to the event API. */
  booking?: boolean;
  /** A connection to event_service_test, for reading seat states behind the event API. */
  eventDb?: boolean;
  /** A booking database of the file's own (privateBookingDatabase), named after this label. */
  privateDatabase?: string;
}

/** What useBookingSystem started; reading a piece it was not asked for, or before beforeAll, throws. */
export interface BookingSystem {
  readonly event: EventApi;
  readonly booking: RunningBookingApi;
  readonly eventDb: Knex;
  readonly privateDatabase: PrivateBookingDatabase;
}

/**
 * The set-up most booking test files share: registers a beforeAll that starts the event API (always) and
 * the pieces `options` asks for, and an afterAll that stops, closes and drops them — also after a
 * beforeAll that failed half-way.
 */
export function useBookingSystem(options: BookingSystemOptions = {}): BookingSystem {
  let event: EventApi | undefined;
  let booking: RunningBookingApi | undefined;
  let eventDb: Knex | undefined;
  let database: PrivateBookingDatabase | undefined;

  beforeAll(async () => {
    event = await startEventSide();
    if (options.booking) booking = await startBookingSide(event.url);
    if (options.eventDb) eventDb = eventTestDatabase();
    if (options.privateDatabase) database = await privateBookingDatabase(options.privateDatabase);
  });

  afterAll(async () => {
    await stopBookingSide(booking);
    await event?.stop();
    await eventDb?.destroy();
    await database?.drop();
  });

  const started = <T>(piece: T | undefined, name: string): T => {
    if (piece === undefined) throw new Error(`useBookingSystem: no ${name} (not asked for in its options, or read before beforeAll)`);
    return piece;
  };
  return {
    get event() {
      return started(event, 'event API');
    },
    get booking() {
      return started(booking, 'booking API');
    },
    get eventDb() {
      return started(eventDb, 'event database');
    },
    get privateDatabase() {
      return started(database, 'private booking database');
    },
  };
}

export interface TestSession {
  sessionId: string;
  /** Session seat ids in seat order (row 1 seat 1, 1-2, …). */
  seatIds: string[];
}

/**
 * A fresh session with `seats` seats (20 per row, row 1 first) priced `price`, built through the event
 * service's own catalog API.
 */
export async function createTestSession(
  eventUrl: string,
  options: { seats?: number; price?: number; startsInHours?: number } = {},
): Promise<TestSession> {
  const seats = options.seats ?? 4;
  const start = new Date(Date.now() + (options.startsInHours ?? 24) * 3600_000);
  const post = async (path: string, body: unknown) => {
    const response = await request(eventUrl, 'POST', `/api/v1${path}`, { body });
    if (response.status !== 201) throw new Error(`POST ${path} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const organizer = await post('/organizers', { name: 'Test organizer' });
  const location = await post('/locations', { name: 'Test venue' });
  const hall = await post(`/locations/${location.id}/halls`, { name: 'Hall', capacity: seats });
  await post(`/halls/${hall.id}/seats/bulk`, {
    seats: Array.from({ length: seats }, (_, i) => ({ row_number: Math.floor(i / 20) + 1, seat_number: (i % 20) + 1 })),
  });
  const show = await post('/events', { title: 'Test event', event_type: 'concert', organizer_id: organizer.id });
  const session = await post('/sessions', {
    event_id: show.id,
    hall_id: hall.id,
    start_time: start.toISOString(),
    end_time: new Date(start.getTime() + 2 * 3600_000).toISOString(),
    base_price: options.price ?? 100,
  });
  const map = await request(eventUrl, 'GET', `/api/v1/sessions/${session.id}/seat-map`);
  return { sessionId: session.id, seatIds: map.body.seats.map((seat: { session_seat_id: string }) => seat.session_seat_id) };
}

export interface SeatState {
  id: string;
  status: 'available' | 'reserved' | 'sold';
  reservation_id: string | null;
}

export async function seatStates(eventDb: Knex, seatIds: string[]): Promise<Map<string, SeatState>> {
  const rows: SeatState[] = await eventDb('session_seats').whereIn('id', seatIds).select('id', 'status', 'reservation_id');
  return new Map(rows.map((row) => [row.id, row]));
}

export const newUser = () => randomUUID();
export const asUser = (userId: string, extra: Record<string, string> = {}) => ({ headers: { 'x-user-id': userId, ...extra } });

/** Payment ids the mock provider (PAYMENT_SUCCESS_RATE 0.5) approves / declines. */
export function paymentId(outcome: 'approved' | 'declined', rate = 0.5): string {
  for (;;) {
    const id = randomUUID();
    if ((paymentScore(id) < rate) === (outcome === 'approved')) return id;
  }
}

export async function reserve(
  bookingUrl: string,
  userId: string,
  sessionId: string,
  seatIds: string[],
  extra: { priceTierId?: string; headers?: Record<string, string> } = {},
) {
  return request(bookingUrl, 'POST', '/api/v1/reservations', {
    headers: { 'x-user-id': userId, ...(extra.headers ?? {}) },
    body: {
      session_id: sessionId,
      seats: seatIds.map((id) => ({ session_seat_id: id, ...(extra.priceTierId ? { price_tier_id: extra.priceTierId } : {}) })),
    },
  });
}

export async function confirm(bookingUrl: string, userId: string, reservationId: string, payment = paymentId('approved')) {
  return request(bookingUrl, 'POST', `/api/v1/reservations/${reservationId}/confirm`, {
    headers: { 'x-user-id': userId },
    body: { payment_id: payment },
  });
}

/** Moves a reservation's expiry into the past, as if its hold had run out. */
export async function expireNow(bookingDb: Knex, reservationId: string, secondsAgo = 1) {
  await bookingDb('reservations')
    .where({ id: reservationId })
    .update({ expiry_time: bookingDb.raw(`now() - make_interval(secs => ?)`, [secondsAgo]) });
}

export async function outboxRows(bookingDb: Knex, reservationId: string) {
  return bookingDb('outbox')
    .whereRaw(`payload->'data'->>'reservation_id' = ?`, [reservationId])
    .orderBy('created_at')
    .select('id', 'routing_key', 'payload', 'headers', 'published_at', 'attempts', 'last_error');
}

/** A new session of `seats` seats bought whole by a new buyer: held (201), then confirmed (200). */
export async function confirmedPurchase(eventUrl: string, bookingUrl: string, seats = 1) {
  const { sessionId, seatIds } = await createTestSession(eventUrl, { seats });
  const buyer = newUser();
  const held = await reserve(bookingUrl, buyer, sessionId, seatIds);
  expect(held.status).toBe(201);
  const confirmed = await confirm(bookingUrl, buyer, held.body.id);
  expect(confirmed.status).toBe(200);
  return { buyer, sessionId, seatIds, reservationId: held.body.id as string, confirmed };
}
