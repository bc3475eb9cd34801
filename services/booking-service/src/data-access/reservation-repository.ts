import type { Knex } from '@ticketing/platform';
import type { ReservationItemRow, ReservationRow, ReservationStatus } from './rows';

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
    /** active → confirmed, only while the hold has not expired (the database clock decides). */
    async confirmIfLive(id: string, paymentId: string): Promise<ReservationRow | undefined> {
      const [row] = await db<ReservationRow>('reservations')
        .where({ id, status: 'active' })
        .where('expiry_time', '>', db.fn.now())
        .update({ status: 'confirmed', payment_id: paymentId, confirmed_at: db.fn.now(), updated_at: db.fn.now() } as never)
        .returning('*');
      return row;
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
