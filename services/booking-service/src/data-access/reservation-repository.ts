import type { Knex } from '@ticketing/platform';
import type { ReservationItemRow, ReservationRow, ReservationStatus } from './rows';

export type NewReservation = Omit<ReservationRow, 'created_at' | 'updated_at' | 'payment_id' | 'confirmed_at'> & {
  created_at: Date;
  updated_at: Date;
};

export function reservationRepository(db: Knex | Knex.Transaction) {
  return {
    async insertWithItems(reservation: NewReservation, items: ReservationItemRow[]): Promise<void> {
      await db('reservations').insert(reservation);
      await db('reservation_items').insert(items);
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
