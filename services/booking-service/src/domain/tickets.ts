import { randomUUID } from 'node:crypto';
import { conflict, createTicketingEvent, forbidden, notFound, serviceUnavailable } from '@ticketing/platform';
import type { BookingStore } from './store';
import type { TicketRow } from './records';
import { capturePayment, sendRefund } from './payments';
import type { BookingDeps } from './ports';

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
): Promise<TicketRow[]> {
  if (callerId !== userId) throw forbidden("You may only list your own tickets");
  const rows = await deps.store.tickets.listByUser(userId, page);
  return rows;
}

export async function getTicket(deps: Pick<BookingDeps, 'store'>, userId: string, ticketId: string): Promise<TicketRow> {
  return ownTicket(deps.store, userId, ticketId);
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
 * The refund cutoff: refunds are accepted until `cutoffMinutes` before the session starts. Returns the
 * moment the window closes, or throws 409 REFUND_WINDOW_CLOSED when it has.
 */
export function assertRefundWindowOpen(sessionStartsAt: Date, cutoffMinutes: number, now: number, ticketId: string): void {
  const closesAt = sessionStartsAt.getTime() - cutoffMinutes * 60_000;
  if (now >= closesAt) {
    throw conflict('REFUND_WINDOW_CLOSED', 'Tickets can no longer be refunded: the session has started or is about to', {
      ticket_id: ticketId,
      session_start_time: sessionStartsAt.toISOString(),
      refund_cutoff_minutes: cutoffMinutes,
      refunds_closed_at: new Date(closesAt).toISOString(),
    });
  }
}

/** The session's start as stored with the reservation, or (reservations older than that column) from the event service. */
async function sessionStart(deps: BookingDeps, ticket: TicketRow): Promise<Date> {
  const reservation = await deps.store.reservations.findById(ticket.reservation_id);
  if (reservation?.session_starts_at) return reservation.session_starts_at;
  try {
    return await deps.eventService.getSessionStart(ticket.session_id);
  } catch (error) {
    deps.logger.error({ err: error, session_id: ticket.session_id }, 'Could not learn the session start for a refund');
    throw serviceUnavailable('EVENT_SERVICE_UNAVAILABLE', 'The event service is unavailable, try again shortly');
  }
}

/**
 * POST /tickets/{id}/refund: refused from REFUND_CUTOFF_MINUTES before the session start on. Otherwise,
 * in one transaction: active → refunded, ticket.refunded in the outbox (the consumer returns the seat to
 * sale) and the money journaled as a pending provider refund; when every ticket of the reservation is
 * refunded the reservation becomes `refunded`. After the commit the provider refunds the ticket's price
 * against the captured payment (idempotency key per ticket); if it fails, the recovery sweep resends it.
 * The reservation row is locked so concurrent refunds of its tickets agree on "all refunded".
 */
export async function refundTicket(deps: BookingDeps, input: { userId: string; ticketId: string }): Promise<TicketRow> {
  const { store } = deps;
  const ticket = await ownTicket(store, input.userId, input.ticketId);
  if (refundDecision(ticket) === 'replay') return ticket;
  assertRefundWindowOpen(await sessionStart(deps, ticket), deps.settings.refundCutoffMinutes, Date.now(), ticket.id);

  const refunded = await store.transaction(async (tx) => {
    const reservation = await tx.reservations.lockById(ticket.reservation_id);
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
    // Reservations confirmed before payments were journaled have no payment row: nothing to send back.
    const refund = reservation?.payment_ref
      ? { id: randomUUID(), paymentRowId: reservation.payment_ref, ticketId: row.id, amount: row.price }
      : undefined;
    if (refund) await tx.payments.addRefund(refund);
    return { row, refund };
  });
  if (!refunded) {
    const settled = await ownTicket(store, input.userId, input.ticketId);
    refundDecision(settled);
    return settled;
  }
  deps.relay.kick();
  deps.metrics.ticketsRefunded(1);
  if (refunded.refund) await sendRefundNow(deps, refunded.refund.paymentRowId, refunded.row.id);
  return refunded.row;
}

/** Best effort now; a refund the provider did not take (or whose capture is still owed) is resent by the recovery sweep. */
async function sendRefundNow(deps: BookingDeps, paymentRowId: string, ticketId: string) {
  try {
    const [payment, refund] = await Promise.all([deps.store.payments.findById(paymentRowId), deps.store.payments.findRefundByTicket(ticketId)]);
    if (!payment?.authorization_id || !refund) return;
    if (payment.state === 'authorized') await capturePayment(deps, { ...payment, authorization_id: payment.authorization_id });
    await sendRefund(deps, refund, payment.authorization_id);
  } catch (error) {
    deps.logger.error({ err: error, ticket_id: ticketId }, 'Refund at the payment provider failed; it will be retried');
  }
}
