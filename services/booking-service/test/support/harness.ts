/**
 * Integration test harness: the REAL event service API (in-process, port 0, event_service_test) and the
 * booking API (port 0, booking_service_test or a private database), with Redis and RabbitMQ (unique namespace).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createDatabase, type Knex } from '@ticketing/platform';
import { migrateEventDatabase } from '../../../event-service/src/data-access/database';
import { startEventApi, type EventApi } from '../../../event-service/src/entry-points/api';
import { startBookingApi, type BookingApiOverrides, type RunningBookingApi } from '../../src/entry-points/api';
import { migrateBookingDatabase } from '../../src/entry-points/migrate';
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

export async function startBookingSide(eventUrl: string, overrides: BookingApiOverrides = {}): Promise<RunningBookingApi> {
  const databaseUrl = overrides.DATABASE_URL ?? BOOKING_TEST_DATABASE_URL;
  await migrateBookingDatabase(databaseUrl);
  return startBookingApi({
    PORT: 0,
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    RABBITMQ_URL,
    EVENT_SERVICE_URL: eventUrl,
    LOG_LEVEL: silentLogLevel as never,
    EXPIRY_SWEEP_INTERVAL_SECONDS: 0,
    PAYMENT_SUCCESS_RATE: 0.5,
    brokerNamespace: uniqueBrokerNamespace('booking'),
    ...overrides,
  });
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
    async drop() {
      const admin = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export const eventTestDatabase = () => createDatabase({ url: EVENT_TEST_DATABASE_URL, poolMax: 4 });

export interface TestSession {
  sessionId: string;
  /** Session seat ids in seat order (row 1 seat 1, 1-2, …). */
  seatIds: string[];
}

/**
 * A fresh session with `seats` seats in row 1 (and more rows past 20), priced `price`, written to the
 * event service's own database.
 */
export async function createTestSession(
  eventDb: Knex,
  options: { seats?: number; price?: string; startsInHours?: number } = {},
): Promise<TestSession> {
  const seats = options.seats ?? 4;
  const price = options.price ?? '100.00';
  const start = new Date(Date.now() + (options.startsInHours ?? 24) * 3600_000);
  return eventDb.transaction(async (trx) => {
    const [organizer] = await trx('organizers').insert({ name: 'Test organizer' }).returning('id');
    const [location] = await trx('locations').insert({ name: 'Test venue' }).returning('id');
    const [hall] = await trx('halls').insert({ location_id: location.id, name: 'Hall', capacity: seats }).returning('id');
    const seatRows = Array.from({ length: seats }, (_, i) => {
      const row = String(Math.floor(i / 20) + 1);
      const number = String((i % 20) + 1);
      return { hall_id: hall.id, row_number: row, seat_number: number, seat_type: 'standard', row_sort: row.padStart(6, '0'), seat_sort: number.padStart(6, '0') };
    });
    const hallSeats = await trx('seats').insert(seatRows).returning(['id', 'row_number', 'seat_number', 'seat_type', 'row_sort', 'seat_sort']);
    const [event] = await trx('events').insert({ organizer_id: organizer.id, title: 'Test event', event_type: 'concert' }).returning('id');
    const [session] = await trx('sessions')
      .insert({
        event_id: event.id,
        hall_id: hall.id,
        start_time: start,
        end_time: new Date(start.getTime() + 2 * 3600_000),
        base_price: price,
        seats_count: seats,
      })
      .returning('id');
    const sessionSeats = await trx('session_seats')
      .insert(hallSeats.map((seat: Record<string, string>) => ({ session_id: session.id, seat_id: seat.id, row_number: seat.row_number, seat_number: seat.seat_number, seat_type: seat.seat_type, row_sort: seat.row_sort, seat_sort: seat.seat_sort, price })))
      .returning(['id', 'row_sort', 'seat_sort']);
    sessionSeats.sort((a: Record<string, string>, b: Record<string, string>) => (a.row_sort + a.seat_sort).localeCompare(b.row_sort + b.seat_sort));
    return { sessionId: session.id, seatIds: sessionSeats.map((seat: Record<string, string>) => seat.id) };
  });
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
