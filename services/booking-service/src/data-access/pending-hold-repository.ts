import { definePreparedStatement, type Knex } from '@ticketing/platform';
import type { PendingHoldRow } from '../domain/records';
import type { CappedRecord } from '../domain/store';

// Named prepared statements: the reservation path and the sweep run these on every request / batch.
const recordStatement = definePreparedStatement<
  { reservationId: string; userId: string; sessionId: string; sessionSeatIds: string[] },
  { reservation_id: string }
>(
  'booking.pending_holds.record',
  `INSERT INTO pending_holds (reservation_id, user_id, session_id, session_seat_ids)
   VALUES (:reservationId, :userId, :sessionId, :sessionSeatIds::uuid[])
   ON CONFLICT (reservation_id) DO UPDATE
     SET created_at = now(), session_seat_ids = EXCLUDED.session_seat_ids
     WHERE pending_holds.abandoned_at IS NULL
   RETURNING reservation_id`,
);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function uuidLiteral(value: string): string {
  if (!UUID.test(value)) throw new Error(`Not a UUID: ${JSON.stringify(value)}`);
  return `'${value}'::uuid`;
}

/**
 * The cap's lock and its check in ONE round trip. Two statements sent in one simple-protocol query run as one
 * implicit transaction: the (user, session) advisory lock taken by the first is held until the second commits,
 * and under READ COMMITTED the second takes its snapshot after the lock was granted, so it sees every hold
 * committed by the lock's previous owner. (One statement would not: its snapshot predates its own lock wait.)
 * The simple protocol takes no parameters, so the values are inlined, each checked to be a UUID or an integer.
 * Both counts have an index made for them (reservations_user_session_active_idx, pending_holds_user_session_live_idx);
 * sequential scans are off for this transaction because statistics taken while the tables were small (an
 * ANALYZE of an empty table, autovacuum off or behind in a burst) otherwise make the planner scan the whole
 * table on every hold, a cost that grows with the table (measured: ~530 rows read per hold over a 1,464-hold
 * bench run). Planned per execution (simple protocol), so no generic plan is cached either.
 */
function recordWithinCapSql(hold: { reservationId: string; userId: string; sessionId: string; sessionSeatIds: string[] }, cap: number) {
  if (!Number.isSafeInteger(cap)) throw new Error(`Seat cap must be an integer, got ${cap}`);
  const reservationId = uuidLiteral(hold.reservationId);
  const userId = uuidLiteral(hold.userId);
  const sessionId = uuidLiteral(hold.sessionId);
  const seatIds = `ARRAY[${hold.sessionSeatIds.map(uuidLiteral).join(',')}]::uuid[]`;
  // Counts the user's seats in this session (live holds + other requests' pending holds) and records this
  // request's pending hold only if the new seats still fit under the cap.
  return `SELECT set_config('enable_seqscan', 'off', true), pg_advisory_xact_lock(hashtextextended('seat-cap:' || ${userId} || ':' || ${sessionId}, 0));
   WITH held AS (
     SELECT (SELECT coalesce(sum(seats_count), 0) FROM reservations
             WHERE user_id = ${userId} AND session_id = ${sessionId} AND status = 'active' AND expiry_time > now())
          + (SELECT coalesce(sum(cardinality(session_seat_ids)), 0) FROM pending_holds
             WHERE user_id = ${userId} AND session_id = ${sessionId} AND abandoned_at IS NULL
               AND reservation_id <> ${reservationId}) AS seats
   ), recorded AS (
     INSERT INTO pending_holds (reservation_id, user_id, session_id, session_seat_ids)
     SELECT ${reservationId}, ${userId}, ${sessionId}, ${seatIds}
     FROM held WHERE held.seats + ${hold.sessionSeatIds.length} <= ${cap}
     ON CONFLICT (reservation_id) DO UPDATE
       SET created_at = now(), session_seat_ids = EXCLUDED.session_seat_ids
       WHERE pending_holds.abandoned_at IS NULL
     RETURNING reservation_id
   )
   SELECT (SELECT reservation_id FROM recorded) AS reservation_id, (SELECT seats FROM held)::int AS held`;
}

const clearStatement = definePreparedStatement<{ reservationId: string }>(
  'booking.pending_holds.clear',
  'DELETE FROM pending_holds WHERE reservation_id = :reservationId AND abandoned_at IS NULL',
);

const abandonStaleStatement = definePreparedStatement<{ olderThanSeconds: number; limit: number }, PendingHoldRow>(
  'booking.pending_holds.abandon_stale',
  `UPDATE pending_holds SET abandoned_at = now()
   WHERE reservation_id IN (
       SELECT reservation_id FROM pending_holds
       WHERE abandoned_at IS NULL AND created_at < now() - make_interval(secs => :olderThanSeconds)
       ORDER BY created_at
       LIMIT :limit
       FOR UPDATE SKIP LOCKED
     )
     AND abandoned_at IS NULL
   RETURNING *`,
);

export function pendingHoldRepository(db: Knex | Knex.Transaction) {
  return {
    /**
     * Records that a hold for this reservation id is about to be requested. False when the id was already
     * abandoned by the sweep (its release is under way), so the caller must not use it.
     */
    async record(hold: { reservationId: string; userId: string; sessionId: string; sessionSeatIds: string[] }): Promise<boolean> {
      const result = await recordStatement.run(db, {
        reservationId: hold.reservationId,
        userId: hold.userId,
        sessionId: hold.sessionId,
        sessionSeatIds: hold.sessionSeatIds,
      });
      return result.rows.length === 1;
    },
    /**
     * record(), but only if the user's seats in this session (active unexpired reservations plus other
     * pending holds) plus these stay within `cap`. Serialised per (user, session) by a transaction-level
     * advisory lock, so parallel requests of one user cannot together exceed the cap. One round trip
     * (inside a caller's transaction the lock lasts until that one ends).
     */
    async recordWithinCap(
      hold: { reservationId: string; userId: string; sessionId: string; sessionSeatIds: string[] },
      cap: number,
    ): Promise<CappedRecord> {
      // knex hands a query without bindings to node-postgres as is: the simple protocol, one result per statement.
      const results = (await db.raw(recordWithinCapSql(hold, cap))) as unknown as Array<{ rows: Array<{ reservation_id: string | null; held: number }> }>;
      const row = results[1]?.rows[0];
      if (row?.reservation_id) return { kind: 'recorded' };
      const held = Number(row?.held ?? 0);
      return held + hold.sessionSeatIds.length > cap ? { kind: 'cap_exceeded', held } : { kind: 'abandoned' };
    },
    /** Clears a live pending hold; false when the sweep abandoned it first. */
    async clear(reservationId: string): Promise<boolean> {
      const { rowCount } = await clearStatement.run(db, { reservationId });
      return rowCount === 1;
    },
    /** Marks pending holds older than `olderThanSeconds` abandoned (oldest first, skipping locked rows). */
    async abandonStale(olderThanSeconds: number, limit: number): Promise<PendingHoldRow[]> {
      const { rows } = await abandonStaleStatement.run(db, { olderThanSeconds, limit });
      return rows;
    },
    /** Of the given reservation ids, those whose hold request may still be running (pending, not abandoned). */
    async liveOf(reservationIds: string[]): Promise<Set<string>> {
      if (reservationIds.length === 0) return new Set();
      const rows: Array<{ reservation_id: string }> = await db('pending_holds')
        .select('reservation_id')
        .whereIn('reservation_id', reservationIds)
        .whereNull('abandoned_at');
      return new Set(rows.map((row) => row.reservation_id));
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

