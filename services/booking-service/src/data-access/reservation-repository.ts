import type { Knex, TicketingEvent } from '@ticketing/platform';
import { outboxRowOf } from './outbox-repository';
import type { ReservationItemRow, ReservationRow, ReservationStatus } from './rows';
import type { NewTicket } from './ticket-repository';

export type NewReservation = Omit<ReservationRow, 'created_at' | 'updated_at' | 'payment_id' | 'confirmed_at'> & {
  created_at: Date;
  updated_at: Date;
};

export function reservationRepository(db: Knex | Knex.Transaction) {
  return {
    /**
     * Writes the reservation and its items in one statement, only if this reservation's live pending hold
     * could be cleared (deleted) by the same statement. False, with nothing written, when the sweep abandoned
     * the hold first. Atomic without a transaction of its own.
     */
    async insertHeld(reservation: NewReservation, items: ReservationItemRow[]): Promise<boolean> {
      const result = await db.raw(
        `WITH cleared AS (
           DELETE FROM pending_holds WHERE reservation_id = ? AND abandoned_at IS NULL RETURNING reservation_id
         ), reservation AS (
           INSERT INTO reservations
             (id, user_id, session_id, booking_time, expiry_time, seats_count, total_amount, status, created_at, updated_at)
           SELECT cleared.reservation_id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM cleared
           RETURNING id
         ), items AS (
           INSERT INTO reservation_items
             (id, reservation_id, session_seat_id, seat_id, row_number, seat_number, seat_type, price, discount_amount,
              final_price, price_tier_id, position)
           SELECT i.id, reservation.id, i.session_seat_id, i.seat_id, i.row_number, i.seat_number, i.seat_type, i.price,
                  i.discount_amount, i.final_price, i.price_tier_id, i.position
           FROM reservation
           CROSS JOIN json_to_recordset(?::json) AS i(
             id uuid, session_seat_id uuid, seat_id uuid, row_number text, seat_number text, seat_type text,
             price numeric, discount_amount numeric, final_price numeric, price_tier_id uuid, position int)
           RETURNING 1
         )
         SELECT (SELECT count(*) FROM reservation)::int AS written`,
        [
          reservation.id,
          reservation.user_id,
          reservation.session_id,
          reservation.booking_time,
          reservation.expiry_time,
          reservation.seats_count,
          reservation.total_amount,
          reservation.status,
          reservation.created_at,
          reservation.updated_at,
          JSON.stringify(
            items.map((item) => {
              if (item.reservation_id !== reservation.id) throw new Error(`Item ${item.id} belongs to another reservation`);
              return {
                ...item,
                row_number: String(item.row_number),
                seat_number: String(item.seat_number),
              };
            }),
          ),
        ],
      );
      return Number(result.rows[0]?.written ?? 0) === 1;
    },
    async findById(id: string): Promise<ReservationRow | undefined> {
      return db<ReservationRow>('reservations').where({ id }).first();
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
      return db<ReservationItemRow>('reservation_items').whereIn('reservation_id', reservationIds).orderBy('position');
    },
    /**
     * In one statement: active → confirmed only while the hold has not expired (the database clock decides),
     * and, only if it did, the tickets and the outbox row. Undefined, with nothing written, when the
     * reservation was no longer a live hold.
     */
    async confirmWithTickets(
      id: string,
      paymentId: string,
      tickets: NewTicket[],
      event: TicketingEvent,
    ): Promise<ReservationRow | undefined> {
      const outbox = outboxRowOf(event);
      const result = await db.raw(
        `WITH confirmed AS (
           UPDATE reservations SET status = 'confirmed', payment_id = ?, confirmed_at = now(), updated_at = now()
           WHERE id = ? AND status = 'active' AND expiry_time > now()
           RETURNING *
         ), issued AS (
           INSERT INTO tickets
             (id, reservation_id, reservation_item_id, user_id, session_id, session_seat_id, row_number, seat_number,
              price, status, ticket_code, qr_png, created_at, updated_at)
           SELECT t.id, confirmed.id, t.reservation_item_id, t.user_id, t.session_id, t.session_seat_id, t.row_number,
                  t.seat_number, t.price, t.status, t.ticket_code, decode(t.qr_png, 'base64'), t.created_at, t.created_at
           FROM confirmed
           CROSS JOIN json_to_recordset(?::json) AS t(
             id uuid, reservation_item_id uuid, user_id uuid, session_id uuid, session_seat_id uuid, row_number text,
             seat_number text, price numeric, status text, ticket_code text, qr_png text, created_at timestamptz)
           RETURNING 1
         ), published AS (
           INSERT INTO outbox (id, routing_key, payload, headers, created_at)
           SELECT ?, ?, ?::jsonb, ?::jsonb, ? FROM confirmed
           RETURNING 1
         )
         SELECT * FROM confirmed`,
        [
          paymentId,
          id,
          JSON.stringify(
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
          outbox.id,
          outbox.routing_key,
          outbox.payload,
          outbox.headers,
          outbox.created_at,
        ],
      );
      return result.rows[0] as ReservationRow | undefined;
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
      return db<ReservationRow>('reservations')
        .whereIn(
          'id',
          db('reservations')
            .select('id')
            .where('status', 'active')
            .where('expiry_time', '<', db.fn.now())
            .orderBy('expiry_time')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .where('status', 'active')
        .update({ status: 'expired', updated_at: db.fn.now() } as never)
        .returning('*');
    },
  };
}

export type ReservationRepository = ReturnType<typeof reservationRepository>;
