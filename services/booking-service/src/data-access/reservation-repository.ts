import { definePreparedStatement, type Knex, type TicketingEvent } from '@ticketing/platform';
import { outboxRowOf } from './outbox-repository';
import type { ReservationItemRow, ReservationRow, ReservationStatus } from '../domain/records';
import type { NewReservation, NewTicket } from '../domain/store';

// Named prepared statements for the hot paths (placing a hold, confirming, the expiry sweep): parsed once per
// connection instead of on every call. Cold paths stay on knex's query builder.
const findByIdStatement = definePreparedStatement<{ id: string }, ReservationRow>(
  'booking.reservations.find_by_id',
  'SELECT * FROM reservations WHERE id = :id LIMIT 1',
);

const itemsOfStatement = definePreparedStatement<{ reservationIds: string[] }, ReservationItemRow>(
  'booking.reservation_items.of_reservations',
  'SELECT * FROM reservation_items WHERE reservation_id = ANY(:reservationIds::uuid[]) ORDER BY position',
);

const confirmWithTicketsStatement = definePreparedStatement<
  {
    id: string;
    paymentId: string;
    paymentRowId: string;
    authorizationId: string;
    tickets: string;
    outboxId: string;
    routingKey: string;
    payload: string;
    headers: string;
    occurredAt: Date;
  },
  ReservationRow
>(
  'booking.reservations.confirm_with_tickets',
  `WITH payment AS (
     UPDATE payments SET state = 'authorized', authorization_id = :authorizationId, updated_at = now()
     WHERE id = :paymentRowId AND state = 'pending'
     RETURNING id
   ), confirmed AS (
     UPDATE reservations
     SET status = 'confirmed', payment_id = :paymentId, payment_ref = :paymentRowId, confirmed_at = now(), updated_at = now()
     WHERE id = :id AND status = 'active' AND expiry_time > now() AND EXISTS (SELECT 1 FROM payment)
     RETURNING *
   ), issued AS (
     INSERT INTO tickets
       (id, reservation_id, reservation_item_id, user_id, session_id, session_seat_id, row_number, seat_number,
        price, status, ticket_code, qr_png, created_at, updated_at)
     SELECT t.id, confirmed.id, t.reservation_item_id, t.user_id, t.session_id, t.session_seat_id, t.row_number,
            t.seat_number, t.price, t.status, t.ticket_code, decode(t.qr_png, 'base64'), t.created_at, t.created_at
     FROM confirmed
     CROSS JOIN json_to_recordset(:tickets::json) AS t(
       id uuid, reservation_item_id uuid, user_id uuid, session_id uuid, session_seat_id uuid, row_number text,
       seat_number text, price numeric, status text, ticket_code text, qr_png text, created_at timestamptz)
     RETURNING 1
   ), published AS (
     INSERT INTO outbox (id, routing_key, payload, headers, created_at)
     SELECT :outboxId, :routingKey, :payload::jsonb, :headers::jsonb, :occurredAt FROM confirmed
     RETURNING 1
   )
   SELECT * FROM confirmed`,
);

/** The status literal is in the SQL (not a parameter), so the plan can use reservations_active_expiry_idx. */
const expireBatchStatement = definePreparedStatement<{ limit: number }, ReservationRow>(
  'booking.reservations.expire_batch',
  `UPDATE reservations SET status = 'expired', updated_at = now()
   WHERE id IN (
       SELECT id FROM reservations
       WHERE status = 'active' AND expiry_time < now()
       ORDER BY expiry_time
       LIMIT :limit
       FOR UPDATE SKIP LOCKED
     )
     AND status = 'active'
   RETURNING *`,
);

/** A reservation's items as the JSON records the insert statements read (json_to_recordset). */
// Reservations and their items in one statement (one round trip, one commit; the hold path's single write is a
// batch of one): each is written only if the same statement could clear its own live pending hold; the ids
// written come back.
const insertHeldStatement = definePreparedStatement<{ reservations: string; items: string }, { id: string }>(
  'booking.reservations.insert_held',
  `WITH input AS (
     SELECT * FROM json_to_recordset(:reservations::json) AS r(
       id uuid, user_id uuid, session_id uuid, booking_time timestamptz, expiry_time timestamptz, seats_count int,
       total_amount numeric, status text, session_starts_at timestamptz, created_at timestamptz, updated_at timestamptz)
   ), cleared AS (
     DELETE FROM pending_holds p USING input
     WHERE p.reservation_id = input.id AND p.abandoned_at IS NULL
     RETURNING p.reservation_id
   ), reservation AS (
     INSERT INTO reservations
       (id, user_id, session_id, booking_time, expiry_time, seats_count, total_amount, status, session_starts_at,
        created_at, updated_at)
     SELECT i.id, i.user_id, i.session_id, i.booking_time, i.expiry_time, i.seats_count, i.total_amount, i.status,
            i.session_starts_at, i.created_at, i.updated_at
     FROM input i JOIN cleared c ON c.reservation_id = i.id
     RETURNING id
   ), items AS (
     INSERT INTO reservation_items
       (id, reservation_id, session_seat_id, seat_id, row_number, seat_number, seat_type, price, discount_amount,
        final_price, price_tier_id, position)
     SELECT i.id, reservation.id, i.session_seat_id, i.seat_id, i.row_number, i.seat_number, i.seat_type, i.price,
            i.discount_amount, i.final_price, i.price_tier_id, i.position
     FROM json_to_recordset(:items::json) AS i(
       id uuid, reservation_id uuid, session_seat_id uuid, seat_id uuid, row_number text, seat_number text,
       seat_type text, price numeric, discount_amount numeric, final_price numeric, price_tier_id uuid, position int)
     JOIN reservation ON reservation.id = i.reservation_id
     RETURNING 1
   )
   SELECT id FROM reservation`,
);

/** Writes the reservations whose pending holds are still live, in one statement; returns the ids written. */
export async function insertHeldMany(db: Knex | Knex.Transaction, held: Array<{ reservation: NewReservation; items: ReservationItemRow[] }>): Promise<Set<string>> {
  const { rows } = await insertHeldStatement.run(db, {
    reservations: JSON.stringify(held.map(({ reservation }) => ({ ...reservation, session_starts_at: reservation.session_starts_at ?? null }))),
    items: JSON.stringify(held.flatMap(({ reservation, items }) => heldItemRecords(reservation, items))),
  });
  return new Set(rows.map((row) => row.id));
}

function heldItemRecords(reservation: NewReservation, items: ReservationItemRow[]) {
  return items.map((item) => {
    if (item.reservation_id !== reservation.id) throw new Error(`Item ${item.id} belongs to another reservation`);
    return { ...item, row_number: String(item.row_number), seat_number: String(item.seat_number) };
  });
}

export function reservationRepository(db: Knex | Knex.Transaction) {
  return {
    /**
     * Writes the reservation and its items in one statement, only if this reservation's live pending hold
     * could be cleared (deleted) by the same statement. False, with nothing written, when the sweep abandoned
     * the hold first. Atomic without a transaction of its own.
     */
    async insertHeld(reservation: NewReservation, items: ReservationItemRow[]): Promise<boolean> {
      return (await insertHeldMany(db, [{ reservation, items }])).has(reservation.id);
    },
    async findById(id: string): Promise<ReservationRow | undefined> {
      const { rows } = await findByIdStatement.run(db, { id });
      return rows[0];
    },
    /** Locks the row until the transaction ends (serialises refunds of one reservation's tickets). */
    async lockById(id: string): Promise<ReservationRow | undefined> {
      return db<ReservationRow>('reservations').where({ id }).forUpdate().first();
    },
    async listByUser(userId: string, page: { limit: number; offset: number }): Promise<ReservationRow[]> {
      return db<ReservationRow>('reservations')
        .where({ user_id: userId })
        .orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }])
        .limit(page.limit)
        .offset(page.offset);
    },
    async itemsOf(reservationIds: string[]): Promise<ReservationItemRow[]> {
      if (reservationIds.length === 0) return [];
      const { rows } = await itemsOfStatement.run(db, { reservationIds });
      return rows;
    },
    /**
     * In one statement: records the payment's authorization (only while its row is still pending: recovery
     * may have claimed it to void it), then active → confirmed only while the hold has not expired (the
     * database clock decides) and the payment was recorded, and, only if it did, the tickets and the outbox
     * row. Undefined when the reservation was no longer a live hold or the payment was claimed; the payment
     * row is then `authorized` (or claimed) and the caller must void it.
     */
    async confirmWithTickets(
      id: string,
      payment: { paymentId: string; paymentRowId: string; authorizationId: string },
      tickets: NewTicket[],
      event: TicketingEvent,
    ): Promise<ReservationRow | undefined> {
      const outbox = outboxRowOf(event);
      const result = await confirmWithTicketsStatement.run(db, {
        id,
        paymentId: payment.paymentId,
        paymentRowId: payment.paymentRowId,
        authorizationId: payment.authorizationId,
        tickets: JSON.stringify(
          tickets.map((ticket) => {
            if (ticket.reservation_id !== id) throw new Error(`Ticket ${ticket.id} belongs to another reservation`);
            return {
              ...ticket,
              row_number: String(ticket.row_number),
              seat_number: String(ticket.seat_number),
              qr_png: ticket.qr_png.toString('base64'),
              created_at: ticket.created_at.toISOString(),
            };
          }),
        ),
        outboxId: outbox.id,
        routingKey: outbox.routing_key,
        payload: outbox.payload,
        headers: outbox.headers,
        occurredAt: outbox.created_at,
      });
      return result.rows[0];
    },
    /** active → cancelled, only while the hold has not expired. */
    async cancelIfLive(id: string): Promise<ReservationRow | undefined> {
      const [row] = await db<ReservationRow>('reservations')
        .where({ id, status: 'active' })
        .where('expiry_time', '>', db.fn.now())
        .update({ status: 'cancelled', updated_at: db.fn.now() } as never)
        .returning('*');
      return row;
    },
    async setStatus(id: string, from: ReservationStatus, to: ReservationStatus): Promise<ReservationRow | undefined> {
      const [row] = await db<ReservationRow>('reservations')
        .where({ id, status: from })
        .update({ status: to, updated_at: db.fn.now() } as never)
        .returning('*');
      return row;
    },
    /**
     * Takes up to `limit` active holds past their expiry, oldest first, skipping rows another sweep (or a
     * confirm) has locked, and marks them expired. Must run inside a transaction.
     */
    async expireBatch(limit: number): Promise<ReservationRow[]> {
      const { rows } = await expireBatchStatement.run(db, { limit });
      return rows;
    },
    /**
     * Marks the named reservations expired when they are still active past their expiry (the same conditional
     * update as the sweep: a confirm racing it has one winner). Must run inside a transaction.
     */
    async expireLapsed(ids: string[]): Promise<ReservationRow[]> {
      if (ids.length === 0) return [];
      return db<ReservationRow>('reservations')
        .whereIn('id', ids)
        .where('status', 'active')
        .where('expiry_time', '<', db.fn.now())
        .update({ status: 'expired', updated_at: db.fn.now() } as never)
        .returning('*');
    },
    async statusesOf(ids: string[]): Promise<Array<Pick<ReservationRow, 'id' | 'status'>>> {
      if (ids.length === 0) return [];
      return db<ReservationRow>('reservations').select('id', 'status').whereIn('id', ids);
    },
  };
}

