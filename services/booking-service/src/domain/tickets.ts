import { conflict, createTicketingEvent, forbidden, notFound } from '@ticketing/platform';
import type { BookingStore } from '../data-access/booking-store';
import type { TicketRow } from '../data-access/rows';
import type { BookingDeps } from './ports';
import { toTicketBody, type TicketBody } from './reservation-view';

async function ownTicket(store: BookingStore, userId: string, ticketId: string): Promise<TicketRow> {
  const row = await store.tickets.findById(ticketId);
  if (!row || row.user_id !== userId) throw notFound('Ticket', ticketId);
  return row;
}

export async function listUserTickets(
  deps: Pick<BookingDeps, 'store'>,
  callerId: string,
  userId: string,
  page: { limit: number; offset: number },
): Promise<TicketBody[]> {
  if (callerId !== userId) throw forbidden("You may only list your own tickets");
  const rows = await deps.store.tickets.listByUser(userId, page);
  return rows.map(toTicketBody);
}

export async function getTicket(deps: Pick<BookingDeps, 'store'>, userId: string, ticketId: string): Promise<TicketBody> {
  return toTicketBody(await ownTicket(deps.store, userId, ticketId));
}

/** The QR code PNG stored when the ticket was issued. */
export async function getTicketQrPng(deps: Pick<BookingDeps, 'store'>, userId: string, ticketId: string): Promise<Buffer> {
  return (await ownTicket(deps.store, userId, ticketId)).qr_png;
}

function refundDecision(ticket: TicketRow): 'refund' | 'replay' {
  switch (ticket.status) {
    case 'refunded':
      return 'replay';
    case 'used':
      throw conflict('TICKET_USED', 'A used ticket cannot be refunded', { ticket_id: ticket.id });
    case 'active':
      return 'refund';
  }
}

/**
 * POST /tickets/{id}/refund: active → refunded with ticket.refunded in the outbox (the consumer returns the
 * seat to sale); when every ticket of the reservation is refunded the reservation becomes `refunded`.
 * The reservation row is locked so concurrent refunds of its tickets agree on "all refunded".
 */
export async function refundTicket(deps: BookingDeps, input: { userId: string; ticketId: string }): Promise<TicketBody> {
  const { store } = deps;
  const ticket = await ownTicket(store, input.userId, input.ticketId);
  if (refundDecision(ticket) === 'replay') return toTicketBody(ticket);

  const refunded = await store.transaction(async (tx) => {
    await tx.reservations.lockById(ticket.reservation_id);
    const row = await tx.tickets.refundIfActive(ticket.id);
    if (!row) return undefined;
    await tx.outbox.add(
      createTicketingEvent('ticket.refunded', {
        reservation_id: row.reservation_id,
        session_id: row.session_id,
        user_id: row.user_id,
        session_seat_ids: [row.session_seat_id],
        ticket_id: row.id,
      }),
    );
    if ((await tx.tickets.countNotRefunded(row.reservation_id)) === 0) {
      await tx.reservations.setStatus(row.reservation_id, 'confirmed', 'refunded');
    }
    return row;
  });
  if (!refunded) {
    const settled = await ownTicket(store, input.userId, input.ticketId);
    refundDecision(settled);
    return toTicketBody(settled);
  }
  deps.relay.kick();
  deps.metrics.ticketsRefunded(1);
  return toTicketBody(refunded);
}
