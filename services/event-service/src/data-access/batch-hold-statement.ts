import { definePreparedStatement, type Knex } from '@ticketing/platform';
import type { HoldAttempt, HoldCommand, SeatDetails } from '../domain/seat-inventory';

type BatchHoldRow = SeatDetails & { ord: number; session_id: string; start_time: Date; held: boolean };

/**
 * The single hold statement (event_seat_hold) for many reservations at once, for reservations whose seats do
 * not overlap (so each one's decision depends on no other's): `locked` takes every row lock of the batch in
 * id order (as lockSeats and the single statement do), each seat only while its reservation's session exists
 * and has not started; `decision` is planHold's rule per reservation (`ord`, its place in the batch), from
 * per-reservation counts made in one pass (`asked`, `found`: a correlated subquery per reservation would scan
 * the whole batch once per reservation, quadratic in the batch size); `held`
 * applies each reservation's decision, all or nothing. The answer per reservation is the single statement's:
 * one row per locked seat, one row with null seat columns when none was locked, no row for an unknown session.
 */
const batchHoldStatement = definePreparedStatement<
  { ords: number[]; reservationIds: string[]; sessionIds: string[]; reservedUntils: string[]; seatOrds: number[]; seatIds: string[]; now: Date },
  BatchHoldRow
>(
  'event_seat_hold_batch',
  `
WITH req AS (
  SELECT * FROM unnest(:ords::int[], :reservationIds::uuid[], :sessionIds::uuid[], :reservedUntils::timestamptz[])
    AS r(ord, reservation_id, session_id, reserved_until)
),
req_seat AS (
  SELECT DISTINCT * FROM unnest(:seatOrds::int[], :seatIds::uuid[]) AS rs(ord, seat_id)
),
sess AS (
  SELECT r.ord, s.id, s.start_time FROM req r JOIN sessions s ON s.id = r.session_id
),
locked AS (
  SELECT rs.ord, ss.id, ss.seat_id, ss.row_number, ss.seat_number, ss.seat_type, ss.price, ss.status, ss.reservation_id,
         ss.reserved_until
    FROM req_seat rs
    JOIN sess ON sess.ord = rs.ord AND sess.start_time > :now
    JOIN session_seats ss ON ss.session_id = sess.id AND ss.id = rs.seat_id
   ORDER BY ss.id
     FOR UPDATE OF ss
),
asked AS (
  SELECT ord, count(*) AS seats FROM req_seat GROUP BY ord
),
found AS (
  SELECT l.ord, count(*) AS seats,
         bool_and(l.status = 'available' OR (l.status = 'reserved' AND l.reservation_id = r.reservation_id)) AS free
    FROM locked l JOIN req r ON r.ord = l.ord
   GROUP BY l.ord
),
decision AS (
  SELECT r.ord, r.reservation_id, r.reserved_until,
         coalesce(f.seats, 0) = coalesce(a.seats, 0) AND coalesce(f.free, true) AS take
    FROM req r
    LEFT JOIN asked a ON a.ord = r.ord
    LEFT JOIN found f ON f.ord = r.ord
),
held AS (
  UPDATE session_seats ss
     SET status = 'reserved', reservation_id = d.reservation_id, reserved_until = d.reserved_until, updated_at = now()
    FROM locked l JOIN decision d ON d.ord = l.ord
   WHERE d.take AND ss.id = l.id AND l.status = 'available' AND ss.status = 'available'
  RETURNING ss.id, ss.reserved_until
)
SELECT s.ord, s.id AS session_id, s.start_time, l.id, l.seat_id, l.row_number, l.seat_number, l.seat_type, l.price,
       l.status, l.reservation_id, coalesce(h.reserved_until, l.reserved_until) AS reserved_until,
       h.id IS NOT NULL AS held
  FROM sess s
  LEFT JOIN locked l ON l.ord = s.ord
  LEFT JOIN held h ON h.id = l.id`,
);

/**
 * tryHold for each of `commands` in one statement; the caller guarantees that no seat is asked for twice
 * across the commands. The attempts come back in the commands' order.
 */
export async function tryHoldsOn(db: Knex | Knex.Transaction, commands: HoldCommand[], now: Date): Promise<Array<HoldAttempt | undefined>> {
  const seats = commands.flatMap((command, ord) => command.seatIds.map((seatId) => ({ ord, seatId })));
  const { rows } = await batchHoldStatement.run(db, {
    ords: commands.map((_, ord) => ord),
    reservationIds: commands.map((command) => command.reservationId),
    sessionIds: commands.map((command) => command.sessionId),
    reservedUntils: commands.map((command) => command.reservedUntil.toISOString()),
    seatOrds: seats.map((seat) => seat.ord),
    seatIds: seats.map((seat) => seat.seatId),
    now,
  });
  const attempts: Array<HoldAttempt | undefined> = commands.map(() => undefined);
  for (const { ord, session_id, start_time, ...seat } of rows) {
    const attempt = (attempts[ord] ??= { session: { id: session_id, start_time }, seats: [] });
    if (seat.id !== null) attempt.seats.push(seat);
  }
  return attempts;
}
