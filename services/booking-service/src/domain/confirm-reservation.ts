import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  AppError,
  conflict,
  createTicketingEvent,
  paymentRequired,
  serviceUnavailable,
  toCents,
} from '@ticketing/platform';
import type { ReservationItemRow, ReservationRow, ReservationWithTickets, TicketRow } from './records';
import type { NewTicket } from './store';
import { capturePayment, providerKeys, voidPayment } from './payments';
import { instrumented, refusalOutcome } from './instrumented';
import type { BookingDeps, ConfirmOutcome } from './ports';
import { ownReservation, reservationExpired, withTickets } from './reservation-reads';
import { renderQrPng } from '../lib/qr-png';
import type { TicketKeyRing } from './ticket-signing';

/**
 * What a confirm with `paymentId` (undefined: the caller sent no payment) means for a reservation in this
 * state: go ahead ('pay'), answer with the existing result ('replay', the same payment again, or no payment
 * named for a confirmed reservation) or refuse.
 */
export function confirmDecision(row: ReservationRow, paymentId: string | undefined, now: number): 'pay' | 'replay' {
  switch (row.status) {
    case 'confirmed':
    case 'refunded':
      if (paymentId === undefined || row.payment_id === paymentId) return 'replay';
      throw conflict('ALREADY_CONFIRMED', 'Reservation is already confirmed with another payment', { reservation_id: row.id });
    case 'cancelled':
      throw conflict('RESERVATION_CANCELLED', 'Reservation was cancelled', { reservation_id: row.id });
    case 'expired':
      throw reservationExpired(row.id);
    case 'active':
      if (row.expiry_time.getTime() <= now) throw reservationExpired(row.id);
      return 'pay';
  }
}

/**
 * POST /reservations/{id}/confirm. Money moves once: the attempt's payment is journaled, the provider
 * *authorizes* the order total, then one statement records the authorization and moves the hold
 * active → confirmed only if it is still live (issuing one ticket per seat and writing reservation.confirmed
 * to the outbox); only the winner *captures*. An attempt that loses (another confirm, the expiry, a cancel)
 * or fails after its authorization *voids* it. A crash anywhere leaves the journal row for the recovery
 * sweep (capture the winner, void the rest). The event service is not called: the message is the path by
 * which seats become sold.
 */
export async function confirmReservation(
  deps: BookingDeps,
  input: { userId: string; reservationId: string; paymentId?: string },
): Promise<ReservationWithTickets> {
  const measure = {
    outcomeOf: (result: { replayed: boolean }): ConfirmOutcome => (result.replayed ? 'replayed' : 'confirmed'),
    outcomeOfError: (error: unknown): ConfirmOutcome =>
      error instanceof AppError && error.status === 402 ? 'declined' : refusalOutcome(error),
    record: (outcome: ConfirmOutcome, seconds: number) => deps.metrics.confirmDuration(outcome, seconds),
  };
  const attributes = { 'ticketing.reservation_id': input.reservationId };
  const result = await instrumented<{ answer: ReservationWithTickets; replayed: boolean }, ConfirmOutcome>('reservation.confirm', attributes, measure, () => confirmOnce(deps, input));
  return result.answer;
}

async function confirmOnce(
  deps: BookingDeps,
  input: { userId: string; reservationId: string; paymentId?: string },
): Promise<{ answer: ReservationWithTickets; replayed: boolean }> {
  const { store } = deps;
  const reservation = await ownReservation(store, input.userId, input.reservationId);
  if (confirmDecision(reservation, input.paymentId, Date.now()) === 'replay') return replay(deps, reservation);

  const paymentId = input.paymentId ?? deps.payments.newPaymentId();
  const paymentRowId = randomUUID();
  // The journal row must exist before the provider is asked; the items are read meanwhile (one round trip less).
  const [items] = await Promise.all([
    store.reservations.itemsOf([reservation.id]),
    store.payments.start({ id: paymentRowId, reservationId: reservation.id, paymentId, amount: reservation.total_amount }),
  ]);
  const authorization = await deps.payments
    .authorize({
      idempotencyKey: providerKeys.authorize(paymentRowId),
      paymentId,
      reservationId: reservation.id,
      amountCents: toCents(reservation.total_amount),
    })
    .catch((error: unknown) => {
      // Whether it was authorized is unknown: the recovery sweep re-asks with the same key and voids it.
      deps.logger.error({ err: error, reservation_id: reservation.id }, 'Payment authorization failed');
      throw serviceUnavailable('PAYMENT_PROVIDER_UNAVAILABLE', 'The payment provider is unavailable, try again shortly');
    });
  if (!authorization.approved) {
    await store.payments.markDeclined(paymentRowId, authorization.reason);
    throw paymentRequired(authorization.reason, { reservation_id: reservation.id, payment_id: paymentId });
  }
  const authorized = { paymentId, paymentRowId, authorizationId: authorization.authorizationId };

  let confirmed: ReservationRow | undefined;
  let tickets: NewTicket[] = [];
  try {
    // Rendered before the transaction so no row lock is held while the CPU draws QR codes.
    tickets = await prepareTickets(reservation, items, deps.settings);
    // One statement: the authorization, the confirm, its tickets and its outbox row, all or nothing.
    confirmed = await store.reservations.confirmWithTickets(
      reservation.id,
      authorized,
      tickets,
      createTicketingEvent('reservation.confirmed', {
        reservation_id: reservation.id,
        session_id: reservation.session_id,
        user_id: reservation.user_id,
        session_seat_ids: items.map((item) => item.session_seat_id),
        payment_id: paymentId,
        total_amount: toCents(reservation.total_amount) / 100,
        ticket_ids: tickets.map((ticket) => ticket.id),
      }),
    );
  } catch (error) {
    await voidLosingPayment(deps, authorized);
    throw error;
  }

  if (!confirmed) {
    // Lost a race (another confirm, the expiry sweep, a cancel): give the money back, answer from the state that won.
    await voidLosingPayment(deps, authorized);
    const settled = await ownReservation(store, input.userId, input.reservationId);
    confirmDecision(settled, paymentId, Date.now());
    if (settled.status === 'active') {
      if (settled.expiry_time.getTime() <= Date.now()) throw reservationExpired(settled.id);
      // Only when the recovery sweep claimed this attempt's payment (the request stalled past its grace).
      throw serviceUnavailable('CONFIRM_ABORTED', 'The confirmation took too long and was rolled back, try again');
    }
    return replay(deps, settled);
  }
  deps.relay.kick();
  deps.metrics.reservationsSettled('confirmed', 1);
  deps.metrics.ticketsIssued(tickets.length);
  const winner = { id: paymentRowId, amount: reservation.total_amount, authorization_id: authorized.authorizationId };
  await capturePayment(deps, winner).catch((error: unknown) => {
    // The authorization holds the funds; the recovery sweep (or the next replay) captures it.
    deps.logger.error({ err: error, reservation_id: reservation.id }, 'Capture failed; it will be retried');
  });
  // Answered from the rows just written (items in position order, tickets in the same order), not re-read.
  const issued = tickets.map((ticket): TicketRow => ({
    ...ticket,
    refunded_at: null,
    used_at: null,
    checked_in_gate: null,
    checked_in_by: null,
    updated_at: ticket.created_at,
  }));
  return { answer: { reservation: confirmed, items, tickets: issued }, replayed: false };
}

/** Voids a losing attempt's authorization now; if the provider fails, the recovery sweep voids it later. */
async function voidLosingPayment(deps: BookingDeps, payment: { paymentRowId: string; authorizationId: string }) {
  await voidPayment(deps, payment.paymentRowId, payment.authorizationId).catch((error: unknown) => {
    deps.logger.error({ err: error, payment_row_id: payment.paymentRowId }, 'Void failed; the recovery sweep will void it');
  });
}

/** The settled answer of a confirmed reservation; a capture still owed (the winner crashed before it) is made now. */
async function replay(deps: BookingDeps, reservation: ReservationRow): Promise<{ answer: ReservationWithTickets; replayed: boolean }> {
  if (reservation.payment_ref) {
    const payment = await deps.store.payments.findById(reservation.payment_ref);
    if (payment?.state === 'authorized' && payment.authorization_id) {
      await capturePayment(deps, { ...payment, authorization_id: payment.authorization_id }).catch((error: unknown) => {
        deps.logger.error({ err: error, reservation_id: reservation.id }, 'Capture on replay failed; it will be retried');
      });
    }
  }
  return { answer: await withTickets(deps.store, reservation), replayed: true };
}

/** A code stops admitting this long after its session's start; without a known start it has no expiry. */
function codeExpiry(reservation: ReservationRow, validHoursAfterStart: number): number | undefined {
  if (!reservation.session_starts_at) return undefined;
  return Math.floor(reservation.session_starts_at.getTime() / 1000) + validHoursAfterStart * 3600;
}

async function prepareTickets(
  reservation: ReservationRow,
  items: ReservationItemRow[],
  settings: { ticketKeys: TicketKeyRing; ticketCodeValidHoursAfterStart: number },
): Promise<NewTicket[]> {
  const now = new Date();
  const expiresAt = codeExpiry(reservation, settings.ticketCodeValidHoursAfterStart);
  const tickets: NewTicket[] = [];
  for (const item of items) {
    const id = randomUUID();
    // The signed code is the QR's whole text: a scanner verifies it offline with the published keys.
    const code = await settings.ticketKeys.sign(
      { ticketId: id, sessionId: reservation.session_id, row: item.row_number, seat: item.seat_number, expiresAt },
      now,
    );
    tickets.push({
      id,
      reservation_id: reservation.id,
      reservation_item_id: item.id,
      user_id: reservation.user_id,
      session_id: reservation.session_id,
      session_seat_id: item.session_seat_id,
      row_number: item.row_number,
      seat_number: item.seat_number,
      price: item.final_price,
      status: 'active',
      ticket_code: code,
      qr_png: await renderQrPng(code),
      created_at: now,
    });
    // Rendering is synchronous CPU work; let other requests through between tickets.
    await yieldToEventLoop();
  }
  return tickets;
}
