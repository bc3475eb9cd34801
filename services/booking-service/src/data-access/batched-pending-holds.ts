import type { Registry } from 'prom-client';
import { createBatchSizeHistogram, NaturalBatcher, outcomeOf, withSpan, type ItemOutcome, type Knex } from '@ticketing/platform';
import type { BookingStore, CappedRecord } from '../domain/store';
import { uuidLiteral } from './pending-hold-repository';

interface PendingHold {
  reservationId: string;
  userId: string;
  sessionId: string;
  sessionSeatIds: string[];
}

const capKey = (hold: PendingHold) => `${hold.userId.toLowerCase()}:${hold.sessionId.toLowerCase()}`;

/**
 * recordWithinCap for holds of different (user, session) pairs in ONE round trip: the first statement takes every
 * pair's cap lock (in key order, so two batches never wait on each other in a cycle), the second counts and
 * records each hold under its own pair's cap, exactly as the single call does (same implicit transaction and
 * snapshot rule; see recordWithinCapSql in pending-hold-repository.ts).
 */
function recordManyWithinCapSql(holds: PendingHold[], cap: number): string {
  if (!Number.isSafeInteger(cap)) throw new Error(`Seat cap must be an integer, got ${cap}`);
  const locks = [...holds]
    .sort((a, b) => (capKey(a) < capKey(b) ? -1 : 1))
    .map((hold) => `pg_advisory_xact_lock(hashtextextended('seat-cap:' || ${uuidLiteral(hold.userId)} || ':' || ${uuidLiteral(hold.sessionId)}, 0))`);
  const rows = holds.map(
    (hold, ord) =>
      `(${ord}, ${uuidLiteral(hold.reservationId)}, ${uuidLiteral(hold.userId)}, ${uuidLiteral(hold.sessionId)}, ARRAY[${hold.sessionSeatIds.map(uuidLiteral).join(',')}]::uuid[])`,
  );
  return `SELECT set_config('enable_seqscan', 'off', true), ${locks.join(', ')};
   WITH input (ord, reservation_id, user_id, session_id, seat_ids) AS (VALUES ${rows.join(', ')}),
   held AS (
     SELECT i.ord,
            (SELECT coalesce(sum(r.seats_count), 0) FROM reservations r
              WHERE r.user_id = i.user_id AND r.session_id = i.session_id AND r.status = 'active' AND r.expiry_time > now())
          + (SELECT coalesce(sum(cardinality(p.session_seat_ids)), 0) FROM pending_holds p
              WHERE p.user_id = i.user_id AND p.session_id = i.session_id AND p.abandoned_at IS NULL
                AND p.reservation_id <> i.reservation_id) AS seats
       FROM input i
   ), recorded AS (
     INSERT INTO pending_holds (reservation_id, user_id, session_id, session_seat_ids)
     SELECT i.reservation_id, i.user_id, i.session_id, i.seat_ids FROM input i JOIN held h ON h.ord = i.ord
      WHERE h.seats + cardinality(i.seat_ids) <= ${cap}
     ON CONFLICT (reservation_id) DO UPDATE
       SET created_at = now(), session_seat_ids = EXCLUDED.session_seat_ids
       WHERE pending_holds.abandoned_at IS NULL
     RETURNING reservation_id
   )
   SELECT i.ord, r.reservation_id IS NOT NULL AS recorded, h.seats::int AS held
     FROM input i JOIN held h ON h.ord = i.ord LEFT JOIN recorded r ON r.reservation_id = i.reservation_id
    ORDER BY i.ord`;
}

/** Journals holds of distinct (user, session) pairs under the cap in one round trip; one outcome per hold, in order. */
export async function recordManyWithinCap(db: Knex, holds: PendingHold[], cap: number): Promise<CappedRecord[]> {
  if (new Set(holds.map(capKey)).size !== holds.length) throw new Error('recordManyWithinCap: one hold per (user, session)');
  const results = (await db.raw(recordManyWithinCapSql(holds, cap))) as unknown as Array<{
    rows: Array<{ ord: number; recorded: boolean; held: number }>;
  }>;
  const byOrd = new Map(results[1].rows.map((row) => [Number(row.ord), row]));
  return holds.map((hold, ord): CappedRecord => {
    const row = byOrd.get(ord);
    if (row?.recorded) return { kind: 'recorded' };
    const held = Number(row?.held ?? 0);
    return held + hold.sessionSeatIds.length > cap ? { kind: 'cap_exceeded', held } : { kind: 'abandoned' };
  });
}

/**
 * The store with the pending-hold journal (and its seat cap) batched across concurrent requests: a lone hold
 * keeps the single call; holds arriving while one is busy go in one round trip, one per (user, session) pair,
 * and a second hold of a pair already in the batch is recorded right after it on its own (it must see the first).
 */
export function withBatchedPendingHolds(db: Knex, store: BookingStore, options: { maxBatchSize: number; maxInFlight: number; registry: Registry }): BookingStore {
  const size = createBatchSizeHistogram(
    options.registry,
    'booking_pending_hold_batch_size',
    'Pending holds journaled (under the seat cap) per round trip (1 when idle; grows with concurrent buyers)',
  );
  const single = ({ hold, cap }: { hold: PendingHold; cap: number }) => store.pendingHolds.recordWithinCap(hold, cap);
  const batcher = new NaturalBatcher<{ hold: PendingHold; cap: number }, CappedRecord>({
    maxBatchSize: options.maxBatchSize,
    maxInFlight: options.maxInFlight,
    run: async (batch, info) => {
      size.observe(info.size);
      if (batch.length === 1) return [await outcomeOf(() => single(batch[0]))];
      const cap = batch[0].cap;
      const seen = new Set<string>();
      const together: number[] = [];
      const alone: number[] = [];
      batch.forEach((entry, index) => {
        const key = capKey(entry.hold);
        if (entry.cap === cap && !seen.has(key)) {
          seen.add(key);
          together.push(index);
        } else alone.push(index);
      });
      const attributes = { 'ticketing.batch_size': together.length };
      const outcomes: Array<ItemOutcome<CappedRecord>> = new Array(batch.length);
      await withSpan('booking-service', 'pending_holds.record_batch', { attributes, links: info.links, root: true }, async () => {
        try {
          const records = await recordManyWithinCap(db, together.map((index) => batch[index].hold), cap);
          together.forEach((index, position) => (outcomes[index] = { ok: true, value: records[position] }));
        } catch {
          for (const index of together) outcomes[index] = await outcomeOf(() => single(batch[index]));
        }
      });
      for (const index of alone) outcomes[index] = await outcomeOf(() => single(batch[index]));
      return outcomes;
    },
  });
  return {
    ...store,
    pendingHolds: { ...store.pendingHolds, recordWithinCap: (hold, cap) => batcher.submit({ hold, cap }) },
  };
}
