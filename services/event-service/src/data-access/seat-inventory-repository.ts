import { definePreparedStatement, type Knex } from '@ticketing/platform';
import type { BookingEventStore, BookingEventTransaction, LockedSeat } from '../domain/booking-events';
import type { LapsedHold, LapsedHoldStore } from '../domain/lapsed-holds';
import { tryHoldsOn } from './batch-hold-statement';
import type { ProcessedMessageStore } from '../domain/message-retention';
import type {
  HoldAttempt,
  HoldCommand,
  HoldableStatus,
  SeatDetails,
  SeatInventoryStore,
  SeatInventoryTransaction,
  SeatState,
  SessionSummary,
} from '../domain/seat-inventory';

const SEAT_DETAILS = `id, seat_id, row_number, seat_number, seat_type, price, status, reservation_id, reserved_until`;

type HoldRow = SeatDetails & { session_id: string; start_time: Date; held: boolean };

/**
 * A hold in one statement (autocommit: one round trip, one transaction). `locked` takes the row locks in id
 * order (as lockSeats does), only while the session exists and has not started. `decision` IS the hold rule,
 * the one copy that decides (every requested seat is in the session, and each is available or already
 * reserved by this reservation); `planHold` in domain/seat-inventory.ts is its explanation, restating it over
 * the same locked rows only to say which seats were refused and why. Change the rule here, then make planHold
 * say the same (placeHold undoes and refuses a hold on which the two disagree). `held` applies the decision,
 * its WHERE repeating `status = 'available'` so Postgres refuses anything else. The answer is one row per
 * locked seat with its state before the hold (plus `held`), or one row with null seat columns when none was
 * locked, or no row when the session does not exist.
 */
const holdStatement = definePreparedStatement<
  { sessionId: string; seatIds: string[]; reservationId: string; reservedUntil: Date; now: Date },
  HoldRow
>(
  'event_seat_hold',
  `
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
  LEFT JOIN held h ON h.id = l.id`,
);

/**
 * A consumer batch's first statement: records the message ids (a conflict means a duplicate delivery) and
 * locks, in id order, the named seats of the messages that were new, each only within its message's
 * session. The lock waits for concurrent holders and returns the rows' latest states. One row per recorded
 * message (kind 'message') and one per locked seat (kind 'seat').
 */
const recordAndLockStatement = definePreparedStatement<
  { messageIds: string[]; routingKeys: string[]; seatMessageIds: string[]; seatSessionIds: string[]; seatIds: string[] },
  LockedSeat & { kind: 'message' | 'seat' }
>(
  'event_record_messages_lock_seats',
  `
WITH recorded AS (
  INSERT INTO processed_messages (message_id, routing_key)
  SELECT * FROM unnest(:messageIds::uuid[], :routingKeys::text[])
  ON CONFLICT (message_id) DO NOTHING
  RETURNING message_id
),
wanted AS (
  SELECT w.session_id, w.seat_id
    FROM unnest(:seatMessageIds::uuid[], :seatSessionIds::uuid[], :seatIds::uuid[]) AS w(message_id, session_id, seat_id)
   WHERE w.message_id IN (SELECT message_id FROM recorded)
),
locked AS (
  SELECT ss.id, ss.session_id, ss.status, ss.reservation_id
    FROM session_seats ss
   WHERE ss.id = ANY(:seatIds::uuid[]) AND (ss.session_id, ss.id) IN (SELECT session_id, seat_id FROM wanted)
   ORDER BY ss.id
     FOR UPDATE OF ss
)
SELECT 'message' AS kind, message_id AS id, NULL::uuid AS session_id, NULL::text AS status, NULL::uuid AS reservation_id
  FROM recorded
UNION ALL
SELECT 'seat', id, session_id, status, reservation_id FROM locked`,
);

/**
 * A consumer batch's writes in one statement: every changed seat (only while still in the state the change
 * was decided from: it is locked, so always) and the refunds. Returns how many seats changed.
 */
const writeChangesStatement = definePreparedStatement<
  {
    ids: string[];
    statuses: string[];
    reservationIds: Array<string | null>;
    fromStatuses: string[];
    fromReservationIds: Array<string | null>;
    refundReservationIds: string[];
    refundSeatIds: string[];
    refundSessionIds: string[];
    refundTicketIds: Array<string | null>;
    refundMessageIds: string[];
  },
  { changed: number; refunds: number }
>(
  'event_write_seat_changes',
  `
WITH changed AS (
  UPDATE session_seats ss
     SET status = c.status, reservation_id = c.reservation_id, updated_at = now(),
         reserved_until = CASE WHEN c.status = 'available' THEN NULL ELSE ss.reserved_until END
    FROM unnest(:ids::uuid[], :statuses::text[], :reservationIds::uuid[], :fromStatuses::text[], :fromReservationIds::uuid[])
         AS c(id, status, reservation_id, from_status, from_reservation_id)
   WHERE ss.id = c.id AND ss.status = c.from_status AND ss.reservation_id IS NOT DISTINCT FROM c.from_reservation_id
  RETURNING ss.id
),
refunds AS (
  INSERT INTO refunded_seats (reservation_id, session_seat_id, session_id, ticket_id, message_id)
  SELECT * FROM unnest(:refundReservationIds::uuid[], :refundSeatIds::uuid[], :refundSessionIds::uuid[],
                       :refundTicketIds::uuid[], :refundMessageIds::uuid[])
  ON CONFLICT (reservation_id, session_seat_id) DO NOTHING
  RETURNING 1
)
SELECT (SELECT count(*) FROM changed) AS changed, (SELECT count(*) FROM refunds) AS refunds`,
);

const refundsOfStatement = definePreparedStatement<{ reservationIds: string[] }, { reservation_id: string; session_seat_id: string }>(
  'event_refunds_of_reservations',
  `SELECT reservation_id, session_seat_id FROM refunded_seats WHERE reservation_id = ANY(:reservationIds::uuid[])`,
);

function bookingEventQueries(trx: Knex.Transaction): BookingEventTransaction {
  return {
    async recordMessagesAndLockSeats(messages) {
      const seats = messages.flatMap((message) => message.seatIds.map((seatId) => ({ message, seatId })));
      const { rows } = await recordAndLockStatement.run(trx, {
        messageIds: messages.map((message) => message.id),
        routingKeys: messages.map((message) => message.routingKey),
        seatMessageIds: seats.map((seat) => seat.message.id),
        seatSessionIds: seats.map((seat) => seat.message.sessionId),
        seatIds: seats.map((seat) => seat.seatId),
      });
      return {
        recorded: new Set(rows.filter((row) => row.kind === 'message').map((row) => row.id)),
        seats: rows
          .filter((row) => row.kind === 'seat')
          .map(({ id, session_id, status, reservation_id }) => ({ id, session_id, status, reservation_id })),
      };
    },
    async refundsOf(reservationIds) {
      const { rows } = await refundsOfStatement.run(trx, { reservationIds });
      return rows;
    },
    async writeSeatChanges(changes, refunds) {
      const { rows } = await writeChangesStatement.run(trx, {
        ids: changes.map((change) => change.id),
        statuses: changes.map((change) => change.to.status),
        reservationIds: changes.map((change) => change.to.reservation_id),
        fromStatuses: changes.map((change) => change.from.status),
        fromReservationIds: changes.map((change) => change.from.reservation_id),
        refundReservationIds: refunds.map((refund) => refund.reservationId),
        refundSeatIds: refunds.map((refund) => refund.seatId),
        refundSessionIds: refunds.map((refund) => refund.sessionId),
        refundTicketIds: refunds.map((refund) => refund.ticketId ?? null),
        refundMessageIds: refunds.map((refund) => refund.messageId),
      });
      return rows[0].changed;
    },
  };
}

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
    async refundedSeatIds(reservationId, seatIds) {
      const { rows } = await trx.raw<{ rows: Array<{ session_seat_id: string }> }>(
        `SELECT session_seat_id FROM refunded_seats WHERE reservation_id = ? AND session_seat_id = ANY(?::uuid[])`,
        [reservationId, seatIds],
      );
      return new Set(rows.map((row) => row.session_seat_id));
    },
  };
}

const BATCH_LOCK_TIMEOUT_MS = 200;

async function findSessionOn(db: Knex | Knex.Transaction, sessionId: string): Promise<SessionSummary | undefined> {
  const { rows } = await db.raw<{ rows: SessionSummary[] }>(`SELECT id, start_time, base_price FROM sessions WHERE id = ?`, [sessionId]);
  return rows[0];
}

async function tryHoldOn(db: Knex | Knex.Transaction, command: HoldCommand, now: Date): Promise<HoldAttempt | undefined> {
  const { rows } = await holdStatement.run(db, {
    sessionId: command.sessionId,
    seatIds: command.seatIds,
    reservationId: command.reservationId,
    reservedUntil: command.reservedUntil,
    now,
  });
  if (!rows.length) return undefined;
  return {
    session: { id: rows[0].session_id, start_time: rows[0].start_time },
    seats: rows.filter((row) => row.id !== null).map(({ session_id: _session, start_time: _start, ...seat }) => seat),
  };
}

/** Postgres implementation of the seat inventory's storage (the internal API's and the consumer's). */
export function seatInventoryRepository(
  db: Knex,
): SeatInventoryStore & BookingEventStore & ProcessedMessageStore & LapsedHoldStore {
  return {
    findSession: (sessionId) => findSessionOn(db, sessionId),
    tryHold: (command, now) => tryHoldOn(db, command, now),
    tryHolds: (commands, now) => tryHoldsOn(db, commands, now),
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
    holdTransaction: (work) =>
      db.transaction(async (trx) => {
        // A batch holds its reservations' seat locks until it commits; two batches wanting each other's seats
        // would wait for the deadlock detector (1 s). Past this wait the batch fails and its holds go one by one.
        await trx.raw(`SET LOCAL lock_timeout = '${BATCH_LOCK_TIMEOUT_MS}ms'`);
        return work({
          findSession: (sessionId) => findSessionOn(trx, sessionId),
          tryHold: (command, now) => tryHoldOn(trx, command, now),
          tryHolds: (commands, now) => tryHoldsOn(trx, commands, now),
          transaction: (inner) => inner(transactionQueries(trx)),
        });
      }),
    transactionForEvents: (work) => db.transaction((trx) => work(bookingEventQueries(trx))),
    async findLapsedHolds(graceSeconds, limit) {
      // session_seats_reserved_until_idx (partial, status = 'reserved') finds them without reading every seat.
      const { rows } = await db.raw<{ rows: LapsedHold[] }>(
        `SELECT session_id, reservation_id, array_agg(id ORDER BY id) AS session_seat_ids
           FROM session_seats
          WHERE status = 'reserved' AND reservation_id IS NOT NULL
            AND reserved_until < now() - make_interval(secs => ?)
          GROUP BY session_id, reservation_id
          ORDER BY min(reserved_until)
          LIMIT ?`,
        [graceSeconds, limit],
      );
      return rows;
    },
    async purgeProcessedMessages(olderThanSeconds, limit) {
      const { rowCount } = await db.raw(
        `DELETE FROM processed_messages WHERE message_id IN (
           SELECT message_id FROM processed_messages
            WHERE processed_at < now() - make_interval(secs => ?)
            ORDER BY processed_at
            LIMIT ?)`,
        [olderThanSeconds, limit],
      );
      return rowCount ?? 0;
    },
  };
}
