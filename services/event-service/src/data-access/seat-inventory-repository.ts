import type { Knex } from '@ticketing/platform';
import type {
  HoldAttempt,
  HoldableStatus,
  SeatDetails,
  SeatInventoryStore,
  SeatInventoryTransaction,
  SeatState,
  SessionSummary,
} from '../domain/seat-inventory';

const SEAT_DETAILS = `id, seat_id, row_number, seat_number, seat_type, price, status, reservation_id, reserved_until`;

/**
 * A hold in one statement (autocommit: one round trip, one transaction). `locked` takes the row locks in id
 * order (as lockSeats does), only while the session exists and has not started; `decision` is planHold's rule
 * (every requested seat is in the session, and each is available or already reserved by this reservation);
 * `held` applies it, its WHERE repeating the rule so Postgres refuses anything else. The answer is one row per
 * locked seat with its state before the hold (plus `held`), or one row with null seat columns when none was
 * locked, or no row when the session does not exist.
 */
const HOLD_SQL = `
WITH sess AS (
  SELECT id, start_time FROM sessions WHERE id = :sessionId
),
locked AS (
  SELECT ss.id, ss.seat_id, ss.row_number, ss.seat_number, ss.seat_type, ss.price, ss.status, ss.reservation_id,
         ss.reserved_until
    FROM session_seats ss
   WHERE ss.session_id = :sessionId AND ss.id = ANY(:seatIds::uuid[])
     AND EXISTS (SELECT 1 FROM sess WHERE sess.start_time > :now)
   ORDER BY ss.id
     FOR UPDATE OF ss
),
decision AS (
  SELECT count(*) = (SELECT count(DISTINCT r) FROM unnest(:seatIds::uuid[]) AS r)
         AND coalesce(bool_and(status = 'available' OR (status = 'reserved' AND reservation_id = :reservationId)), true)
         AS take
    FROM locked
),
held AS (
  UPDATE session_seats ss
     SET status = 'reserved', reservation_id = :reservationId, reserved_until = :reservedUntil, updated_at = now()
    FROM locked l, decision d
   WHERE d.take AND ss.id = l.id AND l.status = 'available' AND ss.status = 'available'
  RETURNING ss.id, ss.reserved_until
)
SELECT s.id AS session_id, s.start_time, l.id, l.seat_id, l.row_number, l.seat_number, l.seat_type, l.price,
       l.status, l.reservation_id, coalesce(h.reserved_until, l.reserved_until) AS reserved_until,
       h.id IS NOT NULL AS held
  FROM sess s
  LEFT JOIN locked l ON true
  LEFT JOIN held h ON h.id = l.id`;

type HoldRow = SeatDetails & { session_id: string; start_time: Date; held: boolean };

function transactionQueries(trx: Knex.Transaction): SeatInventoryTransaction {
  const rowCount = (result: { rowCount?: number | null }) => result.rowCount ?? 0;
  return {
    async lockSeats(sessionId, seatIds) {
      // Locking in id order makes concurrent multi-seat calls queue instead of deadlocking.
      const { rows } = await trx.raw<{ rows: SeatState[] }>(
        `SELECT id, status, reservation_id FROM session_seats
          WHERE session_id = ? AND id = ANY(?::uuid[]) ORDER BY id FOR UPDATE`,
        [sessionId, seatIds],
      );
      return rows;
    },
    async hold(sessionId, seatIds, reservationId, reservedUntil) {
      return rowCount(
        await trx.raw(
          `UPDATE session_seats
              SET status = 'reserved', reservation_id = ?, reserved_until = ?, updated_at = now()
            WHERE session_id = ? AND id = ANY(?::uuid[]) AND status = 'available'`,
          [reservationId, reservedUntil, sessionId, seatIds],
        ),
      );
    },
    async sell(sessionId, seatIds, reservationId, includeUnheld) {
      return rowCount(
        await trx.raw(
          `UPDATE session_seats
              SET status = 'sold', reservation_id = ?, updated_at = now()
            WHERE session_id = ? AND id = ANY(?::uuid[])
              AND ((status = 'reserved' AND reservation_id = ?) OR (? AND status = 'available'))`,
          [reservationId, sessionId, seatIds, reservationId, includeUnheld],
        ),
      );
    },
    async free(sessionId, seatIds, reservationId, from: HoldableStatus[]) {
      return rowCount(
        await trx.raw(
          `UPDATE session_seats
              SET status = 'available', reservation_id = NULL, reserved_until = NULL, updated_at = now()
            WHERE session_id = ? AND id = ANY(?::uuid[]) AND reservation_id = ? AND status = ANY(?::text[])`,
          [sessionId, seatIds, reservationId, from],
        ),
      );
    },
    async seatDetails(sessionId, seatIds) {
      const { rows } = await trx.raw<{ rows: SeatDetails[] }>(
        `SELECT ${SEAT_DETAILS} FROM session_seats WHERE session_id = ? AND id = ANY(?::uuid[])`,
        [sessionId, seatIds],
      );
      return rows;
    },
    async recordMessageAndLockSeats(message, sessionId, seatIds) {
      // The lock waits for concurrent holders and returns the rows' latest states, as lockSeats does.
      const { rows } = await trx.raw<{ rows: Array<{ recorded: boolean } & Partial<SeatState>> }>(
        `WITH recorded AS (
           INSERT INTO processed_messages (message_id, routing_key) VALUES (:messageId, :routingKey)
           ON CONFLICT (message_id) DO NOTHING
           RETURNING message_id
         ),
         locked AS (
           SELECT ss.id, ss.status, ss.reservation_id FROM session_seats ss
            WHERE ss.session_id = :sessionId AND ss.id = ANY(:seatIds::uuid[]) AND EXISTS (SELECT 1 FROM recorded)
            ORDER BY ss.id
              FOR UPDATE OF ss
         )
         SELECT EXISTS (SELECT 1 FROM recorded) AS recorded, l.id, l.status, l.reservation_id
           FROM (SELECT 1) AS one
           LEFT JOIN locked l ON true`,
        { messageId: message.id, routingKey: message.routingKey, sessionId, seatIds },
      );
      if (!rows[0]?.recorded) return undefined;
      return rows.filter((row) => row.id != null).map(({ id, status, reservation_id }) => ({ id, status, reservation_id }) as SeatState);
    },
    async recordRefunds({ reservationId, sessionId, seatIds, ticketId, messageId }) {
      if (!seatIds.length) return;
      await trx.raw(
        `INSERT INTO refunded_seats (reservation_id, session_seat_id, session_id, ticket_id, message_id)
         SELECT ?, seat_id, ?, ?, ? FROM unnest(?::uuid[]) AS u(seat_id)
         ON CONFLICT (reservation_id, session_seat_id) DO NOTHING`,
        [reservationId, sessionId, ticketId ?? null, messageId, seatIds],
      );
    },
    async refundedSeatIds(reservationId, seatIds) {
      const { rows } = await trx.raw<{ rows: Array<{ session_seat_id: string }> }>(
        `SELECT session_seat_id FROM refunded_seats WHERE reservation_id = ? AND session_seat_id = ANY(?::uuid[])`,
        [reservationId, seatIds],
      );
      return new Set(rows.map((row) => row.session_seat_id));
    },
  };
}

/** Postgres implementation of the seat inventory's storage. */
export function seatInventoryRepository(db: Knex): SeatInventoryStore {
  return {
    async findSession(sessionId) {
      const { rows } = await db.raw<{ rows: SessionSummary[] }>(
        `SELECT id, start_time, base_price FROM sessions WHERE id = ?`,
        [sessionId],
      );
      return rows[0];
    },
    async tryHold(command, now): Promise<HoldAttempt | undefined> {
      const { rows } = await db.raw<{ rows: HoldRow[] }>(HOLD_SQL, {
        sessionId: command.sessionId,
        seatIds: command.seatIds,
        reservationId: command.reservationId,
        reservedUntil: command.reservedUntil,
        now,
      });
      if (!rows.length) return undefined;
      return {
        session: { id: rows[0].session_id, start_time: rows[0].start_time },
        seats: rows
          .filter((row) => row.id !== null)
          .map(({ session_id: _session, start_time: _start, ...seat }) => seat),
      };
    },
    async seatStates(sessionId, seatIds) {
      const { rows } = await db.raw<{ rows: SeatState[] }>(
        `SELECT id, status, reservation_id FROM session_seats WHERE session_id = ? AND id = ANY(?::uuid[])`,
        [sessionId, seatIds],
      );
      return rows;
    },
    async seatPrices(sessionId, seatIds) {
      const { rows } = seatIds
        ? await db.raw<{ rows: Array<{ id: string; price: string }> }>(
            `SELECT id, price FROM session_seats WHERE session_id = ? AND id = ANY(?::uuid[])`,
            [sessionId, seatIds],
          )
        : await db.raw<{ rows: Array<{ id: string; price: string }> }>(
            `SELECT id, price FROM session_seats WHERE session_id = ? ORDER BY row_sort, seat_sort`,
            [sessionId],
          );
      if (!seatIds) return rows;
      const byId = new Map(rows.map((row) => [row.id, row]));
      return seatIds.flatMap((id) => byId.get(id) ?? []);
    },
    transaction: (work) => db.transaction((trx) => work(transactionQueries(trx))),
  };
}
