/** Builds catalog data for a test through the domain (so it gets the same rules as the API), with fresh ids. */
import { randomUUID } from 'node:crypto';
import type { Actor, Knex } from '@ticketing/platform';
import { catalogRepository } from '../../src/data-access/catalog-repository';
import { migrateEventDatabase, openEventDatabase } from '../../src/data-access/database';
import { addSeats, createEvent, createHall, createLocation, createOrganizer, createSession } from '../../src/domain/catalog';
import { EVENT_TEST_DATABASE_URL } from '../../../../test/support/infra';

export const DAY_MS = 86_400_000;

/** Development's open catalog: fixtures build data without an identity. */
export const ANYONE: Actor = { kind: 'anyone' };

export async function openTestDatabase(): Promise<Knex> {
  await migrateEventDatabase(EVENT_TEST_DATABASE_URL);
  return openEventDatabase(EVENT_TEST_DATABASE_URL, 5);
}

export interface SessionFixture {
  sessionId: string;
  hallId: string;
  eventId: string;
  /** Session seat ids in seat-map order (row by row). */
  seatIds: string[];
}

/** A session in a fresh hall of `rows` × `seatsPerRow` seats, starting `startsInMs` from now. */
export async function createSessionFixture(
  db: Knex,
  options: { rows?: number; seatsPerRow?: number; startsInMs?: number; basePrice?: string } = {},
): Promise<SessionFixture> {
  const catalog = catalogRepository(db);
  const tag = randomUUID().slice(0, 8);
  const organizer = await createOrganizer(catalog, ANYONE, {
    name: `Organizer ${tag}`,
    description: null,
    contact_email: null,
    contact_phone: null,
  });
  const location = await createLocation(catalog, ANYONE, {
    name: `Venue ${tag}`,
    address: null,
    city: null,
    country: null,
    timezone: 'UTC',
  });
  const hall = await createHall(catalog, ANYONE, { location_id: String(location.id), name: `Hall ${tag}`, capacity: null });
  const seats = [];
  for (let row = 1; row <= (options.rows ?? 2); row++) {
    for (let seat = 1; seat <= (options.seatsPerRow ?? 5); seat++) {
      seats.push({ row_number: String(row), seat_number: String(seat), seat_type: 'standard' });
    }
  }
  await addSeats(catalog, ANYONE, String(hall.id), seats, 200_000);
  const event = await createEvent(catalog, ANYONE, {
    organizer_id: String(organizer.id),
    title: `Event ${tag}`,
    description: null,
    event_type: 'concert',
  });
  const start = Date.now() + (options.startsInMs ?? 7 * DAY_MS);
  const session = await createSession(catalog, ANYONE, {
    event_id: String(event.id),
    hall_id: String(hall.id),
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + 2 * 3_600_000).toISOString(),
    base_price: options.basePrice ?? '100.00',
  });
  const rows = await db('session_seats').select('id').where({ session_id: session.id }).orderBy(['row_sort', 'seat_sort']);
  return {
    sessionId: String(session.id),
    hallId: String(hall.id),
    eventId: String(event.id),
    seatIds: rows.map((row: { id: string }) => row.id),
  };
}

export interface SeatRow {
  id: string;
  status: 'available' | 'reserved' | 'sold';
  reservation_id: string | null;
  reserved_until: Date | null;
}

/** The stored state of session seats, in the order asked. */
export async function seatRows(db: Knex, ids: string[]): Promise<SeatRow[]> {
  const rows: SeatRow[] = await db('session_seats')
    .select('id', 'status', 'reservation_id', 'reserved_until')
    .whereIn('id', ids);
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id)!);
}

export const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);
