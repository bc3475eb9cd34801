import type { Knex } from '@ticketing/platform';
import type {
  HoldableStatus,
  SeatDetails,
  SeatInventoryStore,
  SeatInventoryTransaction,
  SeatState,
  SessionSummary,
} from '../domain/seat-inventory';

const SEAT_DETAILS = `id, seat_id, row_number, seat_number, seat_type, price, status, reservation_id, reserved_until`;

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
    async markMessageProcessed(messageId, routingKey) {
      const { rowCount: inserted } = await trx.raw(
        `INSERT INTO processed_messages (message_id, routing_key) VALUES (?, ?) ON CONFLICT (message_id) DO NOTHING`,
        [messageId, routingKey],
      );
      return (inserted ?? 0) > 0;
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
