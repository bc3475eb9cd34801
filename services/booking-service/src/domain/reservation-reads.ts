import { gone, notFound } from '@ticketing/platform';
import type { BookingDeps } from './ports';
import type { ReservationItemRow, ReservationRecord, ReservationRow, ReservationWithTickets } from './records';
import type { BookingStore } from './store';

/** The caller's own reservation, or 404 (another user's reservation is indistinguishable from none). */
export async function ownReservation(store: BookingStore, userId: string, reservationId: string): Promise<ReservationRow> {
  const row = await store.reservations.findById(reservationId);
  if (!row || row.user_id !== userId) throw notFound('Reservation', reservationId);
  return row;
}

/** The reservation with its items and tickets. */
export async function withTickets(store: BookingStore, row: ReservationRow): Promise<ReservationWithTickets> {
  const [items, tickets] = await Promise.all([store.reservations.itemsOf([row.id]), store.tickets.listByReservation(row.id)]);
  return { reservation: row, items, tickets };
}

/** 410: the hold ran out before the request. */
export const reservationExpired = (reservationId: string) => gone('RESERVATION_EXPIRED', 'Reservation expired', { reservation_id: reservationId });

export async function getReservation(deps: Pick<BookingDeps, 'store'>, userId: string, reservationId: string) {
  return withTickets(deps.store, await ownReservation(deps.store, userId, reservationId));
}

export async function listReservations(
  deps: Pick<BookingDeps, 'store'>,
  userId: string,
  page: { limit: number; offset: number },
): Promise<ReservationRecord[]> {
  const rows = await deps.store.reservations.listByUser(userId, page);
  const items = await deps.store.reservations.itemsOf(rows.map((row) => row.id));
  const byReservation = new Map<string, ReservationItemRow[]>();
  for (const item of items) byReservation.set(item.reservation_id, [...(byReservation.get(item.reservation_id) ?? []), item]);
  return rows.map((row) => ({ reservation: row, items: byReservation.get(row.id) ?? [] }));
}
