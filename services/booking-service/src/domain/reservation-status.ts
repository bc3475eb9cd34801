/**
 * What the event service asks before it returns a lapsed hold to sale (its seats are still `reserved` past
 * `reserved_until` plus a grace period): what became of these reservations here? Booking is the authority
 * on a reservation's fate, so it answers from its own rows, and first settles holds that are past their
 * expiry but still active (the sweep has not reached them yet) with the sweep's own conditional update and
 * outbox row, so a confirm racing this has exactly one winner and the world hears reservation.expired.
 */
import type { Logger } from '@ticketing/platform';
import type { BookingStore } from './store';
import { addExpiredEvents } from './expiry';
import { noMetrics, type BookingMetrics, type OutboxKicker } from './ports';

/**
 * `pending`: no reservation yet, but its hold request may still be running; `unknown`: no reservation and no
 * running request (it never got written, or its hold was abandoned).
 */
export type ReservationFate = 'active' | 'confirmed' | 'expired' | 'cancelled' | 'refunded' | 'pending' | 'unknown';

export async function reservationFates(
  deps: { store: BookingStore; logger: Logger; relay?: OutboxKicker; metrics?: BookingMetrics },
  reservationIds: string[],
): Promise<Array<{ reservation_id: string; status: ReservationFate }>> {
  const ids = [...new Set(reservationIds.map((id) => id.toLowerCase()))];
  const expired = await deps.store.transaction(async (tx) => {
    const rows = await tx.reservations.expireLapsed(ids);
    await addExpiredEvents(tx, rows);
    return rows.length;
  });
  if (expired) {
    (deps.metrics ?? noMetrics).reservationsSettled('expired', expired);
    (deps.metrics ?? noMetrics).holdsReleasedByExpiry('expired', expired);
    deps.logger.info({ expired }, 'Expired lapsed holds the event service asked about');
    deps.relay?.kick();
  }
  const statuses = new Map((await deps.store.reservations.statusesOf(ids)).map((row) => [row.id, row.status]));
  const pending = await deps.store.pendingHolds.liveOf(ids.filter((id) => !statuses.has(id)));
  return ids.map((id) => ({
    reservation_id: id,
    status: statuses.get(id) ?? (pending.has(id) ? 'pending' : 'unknown'),
  }));
}
