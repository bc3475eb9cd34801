import { createTicketingEvent, inBatches, type Logger } from '@ticketing/platform';
import type { BookingRepositories, BookingStore } from './store';
import type { ReservationRow } from './records';
import { noMetrics, type BookingMetrics, type OutboxKicker } from './ports';

export interface ExpirySweepResult {
  /** Active holds past their expiry time that were marked expired. */
  expired: number;
  /** Holds placed by requests that never wrote their reservation (crash), whose release was requested. */
  abandonedHolds: number;
  /** Outbox rows deleted because they were published longer ago than the retention. */
  purgedOutboxRows: number;
  batches: number;
}

export interface ExpirySweepSettings {
  batchSize: number;
  /** A pending hold older than this belongs to a request that is no longer running. */
  pendingHoldGraceSeconds: number;
  /** Published outbox rows are deleted after this long; 0 keeps them. */
  outboxRetentionSeconds: number;
}

/** Abandoned reservation ids are remembered this long so a late retry never reuses one. */
const ABANDONED_ID_RETENTION_SECONDS = 7 * 24 * 3600;

/** One reservation.expired outbox row per reservation just marked expired (same transaction). */
export async function addExpiredEvents(tx: BookingRepositories, rows: ReservationRow[]): Promise<void> {
  if (rows.length === 0) return;
  const items = await tx.reservations.itemsOf(rows.map((row) => row.id));
  const seatsByReservation = new Map<string, string[]>();
  for (const item of items) {
    seatsByReservation.set(item.reservation_id, [...(seatsByReservation.get(item.reservation_id) ?? []), item.session_seat_id]);
  }
  await tx.outbox.addMany(
    rows.map((row) =>
      createTicketingEvent('reservation.expired', {
        reservation_id: row.id,
        session_id: row.session_id,
        user_id: row.user_id,
        session_seat_ids: seatsByReservation.get(row.id) ?? [],
        expiry_time: row.expiry_time.toISOString(),
      }),
    ),
  );
}

/**
 * The expire-reservations job. In batches, each one transaction: active reservations past expiry_time
 * become expired and get a reservation.expired outbox row. Rows are claimed with FOR UPDATE SKIP LOCKED,
 * so two sweeps at once never process the same reservation, and a confirm racing the sweep has exactly one
 * winner (both only move a reservation that is still active). Also releases holds orphaned by a crash, and
 * deletes outbox rows published longer ago than the retention (they only matter while unpublished).
 */
export async function expireReservations(
  deps: { store: BookingStore; logger: Logger; relay?: OutboxKicker; metrics?: BookingMetrics },
  settings: ExpirySweepSettings,
): Promise<ExpirySweepResult> {
  const metrics = deps.metrics ?? noMetrics;
  const result: ExpirySweepResult = { expired: 0, abandonedHolds: 0, purgedOutboxRows: 0, batches: 0 };
  result.expired = await inBatches(
    settings.batchSize,
    () =>
      deps.store.transaction(async (tx) => {
        const rows = await tx.reservations.expireBatch(settings.batchSize);
        if (rows.length === 0) return 0;
        await addExpiredEvents(tx, rows);
        return rows.length;
      }),
    (count) => {
      result.batches += 1;
      metrics.reservationsSettled('expired', count);
      metrics.holdsReleasedByExpiry('expired', count);
      deps.relay?.kick();
    },
  );

  result.abandonedHolds = await inBatches(
    settings.batchSize,
    () =>
      deps.store.transaction(async (tx) => {
        const holds = await tx.pendingHolds.abandonStale(settings.pendingHoldGraceSeconds, settings.batchSize);
        if (holds.length === 0) return 0;
        await tx.outbox.addMany(
          holds.map((hold) =>
            createTicketingEvent('reservation.expired', {
              reservation_id: hold.reservation_id,
              session_id: hold.session_id,
              user_id: hold.user_id,
              session_seat_ids: hold.session_seat_ids,
              reason: 'abandoned_hold',
            }),
          ),
        );
        return holds.length;
      }),
    (count) => {
      result.batches += 1;
      metrics.holdsReleasedByExpiry('abandoned', count);
      deps.logger.warn({ count }, 'Released holds whose reservations were never written');
      deps.relay?.kick();
    },
  );

  await deps.store.pendingHolds.purgeAbandoned(ABANDONED_ID_RETENTION_SECONDS);
  if (settings.outboxRetentionSeconds > 0) {
    result.purgedOutboxRows = await inBatches(settings.batchSize, () =>
      deps.store.outbox.purgePublished(settings.outboxRetentionSeconds, settings.batchSize),
    );
  }
  if (result.expired || result.abandonedHolds || result.purgedOutboxRows) deps.logger.info(result, 'Expiry sweep finished');
  return result;
}
