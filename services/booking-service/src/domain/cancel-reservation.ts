import { conflict, createTicketingEvent } from '@ticketing/platform';
import type { BookingDeps } from './ports';
import type { ReservationRow, ReservationWithTickets } from './records';
import { ownReservation, reservationExpired, withTickets } from './reservation-reads';

/**
 * DELETE /reservations/{id}: an active hold becomes cancelled and reservation.cancelled goes to the outbox
 * (the consumer returns the seats to sale). Cancelling again answers the same; confirmed → 409, expired → 410.
 */
export async function cancelReservation(
  deps: BookingDeps,
  input: { userId: string; reservationId: string },
): Promise<ReservationWithTickets> {
  const { store } = deps;
  const reservation = await ownReservation(store, input.userId, input.reservationId);
  if (cancelDecision(reservation, Date.now()) === 'replay') return withTickets(store, reservation);

  const cancelled = await store.transaction(async (tx) => {
    const row = await tx.reservations.cancelIfLive(reservation.id);
    if (!row) return undefined;
    const items = await tx.reservations.itemsOf([row.id]);
    await tx.outbox.add(
      createTicketingEvent('reservation.cancelled', {
        reservation_id: row.id,
        session_id: row.session_id,
        user_id: row.user_id,
        session_seat_ids: items.map((item) => item.session_seat_id),
      }),
    );
    return row;
  });
  if (!cancelled) {
    const settled = await ownReservation(store, input.userId, input.reservationId);
    cancelDecision(settled, Date.now());
    if (settled.status === 'active') throw reservationExpired(settled.id);
    return withTickets(store, settled);
  }
  deps.relay.kick();
  deps.metrics.reservationsSettled('cancelled', 1);
  return withTickets(store, cancelled);
}

function cancelDecision(row: ReservationRow, now: number): 'cancel' | 'replay' {
  switch (row.status) {
    case 'cancelled':
      return 'replay';
    case 'confirmed':
    case 'refunded':
      throw conflict('RESERVATION_CONFIRMED', 'Reservation is confirmed; refund its tickets instead', {
        reservation_id: row.id,
      });
    case 'expired':
      throw reservationExpired(row.id);
    case 'active':
      if (row.expiry_time.getTime() <= now) throw reservationExpired(row.id);
      return 'cancel';
  }
}
