import type { Knex } from '@ticketing/platform';
import type { IdempotencyRow } from '../domain/records';

export function idempotencyRepository(db: Knex | Knex.Transaction) {
  return {
    /** Inserts a new in-progress claim; undefined when the key already exists. */
    async insertClaim(claim: { userId: string; key: string; requestHash: string; reservationId: string }): Promise<IdempotencyRow | undefined> {
      const [row] = await db<IdempotencyRow>('idempotency_keys')
        .insert({
          user_id: claim.userId,
          key: claim.key,
          request_hash: claim.requestHash,
          reservation_id: claim.reservationId,
        })
        .onConflict(['user_id', 'key'])
        .ignore()
        .returning('*');
      return row;
    },
    /** The existing claim, locked for this transaction, with whether its lease is still running. */
    async lock(userId: string, key: string, leaseMs: number): Promise<(IdempotencyRow & { leased: boolean }) | undefined> {
      const row = await db('idempotency_keys')
        .where({ user_id: userId, key })
        .forUpdate()
        .first<IdempotencyRow & { leased: boolean }>(
          '*',
          db.raw('updated_at > now() - make_interval(secs => ?) AS leased', [leaseMs / 1000]),
        );
      return row;
    },
    /** Takes over an abandoned claim: renews its lease, optionally with a fresh reservation id. */
    async renew(userId: string, key: string, reservationId: string): Promise<void> {
      await db('idempotency_keys')
        .where({ user_id: userId, key })
        .update({ reservation_id: reservationId, updated_at: db.fn.now() });
    },
    /** The attempt `fromId` moves to a fresh reservation id; false when another attempt owns the key now. */
    async renewAttempt(userId: string, key: string, fromId: string, toId: string): Promise<boolean> {
      const count = await db('idempotency_keys')
        .where({ user_id: userId, key, reservation_id: fromId })
        .whereNull('response_status')
        .update({ reservation_id: toId, updated_at: db.fn.now() });
      return count === 1;
    },
    /** Stores the answer of the attempt `reservationId`; false when another attempt owns the key now. */
    async complete(userId: string, key: string, reservationId: string, status: number, body: unknown): Promise<boolean> {
      const count = await db('idempotency_keys')
        .where({ user_id: userId, key, reservation_id: reservationId })
        .whereNull('response_status')
        .update({ response_status: status, response_body: JSON.stringify(body), updated_at: db.fn.now() });
      return count === 1;
    },
    /**
     * Ends the lease of a failed attempt at once, so the client's retry can proceed without waiting; only
     * while that attempt still owns the key (never the lease of a retry that took over).
     */
    async abandon(userId: string, key: string, reservationId: string): Promise<void> {
      await db('idempotency_keys')
        .where({ user_id: userId, key, reservation_id: reservationId })
        .whereNull('response_status')
        .update({ updated_at: new Date(0) });
    },
  };
}

