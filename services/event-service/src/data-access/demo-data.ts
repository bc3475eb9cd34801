import type { Knex } from '@ticketing/platform';
import { naturalSortKey } from '../domain/seat-order';
import {
  DEMO_BASE_PRICE,
  DEMO_EVENT_ID,
  DEMO_HALL_ID,
  DEMO_LOCATION_ID,
  DEMO_ORGANIZER_ID,
  DEMO_ROWS,
  DEMO_SEATS_PER_ROW,
  DEMO_SESSION_ID,
  demoSeatId,
  demoSessionSeatId,
} from './demo-ids';

const DAY_MS = 86_400_000;

/**
 * The demo data of docs/user-flow.md: an organizer, a location with the 200-seat "Main Hall" (rows "1".."10",
 * seats "1".."20"), an event and a session starting about 30 days after the first seeding, base price 100.00.
 *
 * Idempotent: every row has a stable id and is inserted with ON CONFLICT DO NOTHING, so seeding again
 * changes nothing, in particular not the seats demo users have held or bought. The one exception keeps the
 * seed usable on a long-lived database: once the demo session has started (its seats can no longer be
 * reserved), seeding moves it 30 days ahead again.
 */
export async function seedEventDemoData(db: Knex, now = new Date()): Promise<void> {
  const start = new Date(Math.floor((now.getTime() + 30 * DAY_MS) / 3_600_000) * 3_600_000);
  const end = new Date(start.getTime() + 2.5 * 3_600_000);
  const seats: Array<{ id: string; sessionSeatId: string; row: string; seat: string }> = [];
  for (let row = 1; row <= DEMO_ROWS; row++) {
    for (let seat = 1; seat <= DEMO_SEATS_PER_ROW; seat++) {
      seats.push({ id: demoSeatId(row, seat), sessionSeatId: demoSessionSeatId(row, seat), row: String(row), seat: String(seat) });
    }
  }

  await db.transaction(async (trx) => {
    await trx.raw(
      `INSERT INTO organizers (id, name, description, contact_email, contact_phone)
       VALUES (?, 'Riverside Concerts', 'Demo organizer of the ticketing walkthrough', 'box-office@example.com', '+1 555 0100')
       ON CONFLICT DO NOTHING`,
      [DEMO_ORGANIZER_ID],
    );
    await trx.raw(
      `INSERT INTO locations (id, name, address, city, country, timezone)
       VALUES (?, 'Riverside Arts Centre', '1 Riverside Way', 'London', 'GB', 'Europe/London')
       ON CONFLICT DO NOTHING`,
      [DEMO_LOCATION_ID],
    );
    await trx.raw(
      `INSERT INTO halls (id, location_id, name, capacity) VALUES (?, ?, 'Main Hall', ?) ON CONFLICT DO NOTHING`,
      [DEMO_HALL_ID, DEMO_LOCATION_ID, DEMO_ROWS * DEMO_SEATS_PER_ROW],
    );
    await trx.raw(
      `INSERT INTO seats (id, hall_id, row_number, seat_number, seat_type, row_sort, seat_sort)
       SELECT id, ?, r, s, 'standard', rs, ss FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(id, r, s, rs, ss)
       ON CONFLICT DO NOTHING`,
      [
        DEMO_HALL_ID,
        seats.map((seat) => seat.id),
        seats.map((seat) => seat.row),
        seats.map((seat) => seat.seat),
        seats.map((seat) => naturalSortKey(seat.row)),
        seats.map((seat) => naturalSortKey(seat.seat)),
      ],
    );
    await trx.raw(
      `INSERT INTO events (id, organizer_id, title, description, event_type)
       VALUES (?, ?, 'Evening Symphony', 'Demo event: an evening of orchestral favourites', 'concert')
       ON CONFLICT DO NOTHING`,
      [DEMO_EVENT_ID, DEMO_ORGANIZER_ID],
    );
    await trx.raw(
      `INSERT INTO sessions (id, event_id, hall_id, start_time, end_time, base_price)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [DEMO_SESSION_ID, DEMO_EVENT_ID, DEMO_HALL_ID, start, end, DEMO_BASE_PRICE.toFixed(2)],
    );
    await trx.raw(
      `UPDATE sessions SET start_time = ?, end_time = ?, updated_at = now() WHERE id = ? AND start_time <= ?`,
      [start, end, DEMO_SESSION_ID, now],
    );
    await trx.raw(
      `INSERT INTO session_seats (id, session_id, seat_id, row_number, seat_number, seat_type, row_sort, seat_sort, price)
       SELECT u.id, s_id, s.id, s.row_number, s.seat_number, s.seat_type, s.row_sort, s.seat_sort, sess.base_price
         FROM unnest(?::uuid[], ?::uuid[]) AS u(id, seat_id)
         JOIN seats s ON s.id = u.seat_id
         CROSS JOIN (SELECT id AS s_id, base_price FROM sessions WHERE id = ?) sess
       ON CONFLICT DO NOTHING`,
      [seats.map((seat) => seat.sessionSeatId), seats.map((seat) => seat.id), DEMO_SESSION_ID],
    );
    await trx.raw(
      `UPDATE sessions SET seats_count = (SELECT count(*) FROM session_seats WHERE session_id = ?)
        WHERE id = ? AND seats_count IS DISTINCT FROM (SELECT count(*) FROM session_seats WHERE session_id = ?)`,
      [DEMO_SESSION_ID, DEMO_SESSION_ID, DEMO_SESSION_ID],
    );
  });
}
