import type { Knex } from '@ticketing/platform';
import type { PendingHoldRow } from './rows';

export function pendingHoldRepository(db: Knex | Knex.Transaction) {
  return {
    /**
     * Records that a hold for this reservation id is about to be requested. False when the id was already
     * abandoned by the sweep (its release is under way), so the caller must not use it.
     */
    async record(hold: { reservationId: string; userId: string; sessionId: string; sessionSeatIds: string[] }): Promise<boolean> {
      const result = await db.raw(
        `INSERT INTO pending_holds (reservation_id, user_id, session_id, session_seat_ids)
         VALUES (?, ?, ?, ?::uuid[])
         ON CONFLICT (reservation_id) DO UPDATE
           SET created_at = now(), session_seat_ids = EXCLUDED.session_seat_ids
           WHERE pending_holds.abandoned_at IS NULL
         RETURNING reservation_id`,
        [hold.reservationId, hold.userId, hold.sessionId, hold.sessionSeatIds],
      );
      return result.rows.length === 1;
    },
    /** Clears a live pending hold; false when the sweep abandoned it first. */
    async clear(reservationId: string): Promise<boolean> {
      const deleted = await db('pending_holds').where({ reservation_id: reservationId }).whereNull('abandoned_at').del();
      return deleted === 1;
    },
    /** Marks pending holds older than `olderThanSeconds` abandoned (oldest first, skipping locked rows). */
    async abandonStale(olderThanSeconds: number, limit: number): Promise<PendingHoldRow[]> {
      return db<PendingHoldRow>('pending_holds')
        .whereIn(
          'reservation_id',
          db('pending_holds')
            .select('reservation_id')
            .whereNull('abandoned_at')
            .where('created_at', '<', db.raw('now() - make_interval(secs => ?)', [olderThanSeconds]))
            .orderBy('created_at')
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .whereNull('abandoned_at')
        .update({ abandoned_at: db.fn.now() } as never)
        .returning('*');
    },
    /** Forgets abandoned ids once no retry could plausibly still carry them. */
    async purgeAbandoned(olderThanSeconds: number): Promise<number> {
      return db('pending_holds')
        .whereNotNull('abandoned_at')
        .where('abandoned_at', '<', db.raw('now() - make_interval(secs => ?)', [olderThanSeconds]))
        .del();
    },
  };
}

export type PendingHoldRepository = ReturnType<typeof pendingHoldRepository>;
