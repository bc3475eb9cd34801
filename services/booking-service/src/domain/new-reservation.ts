import { randomUUID } from 'node:crypto';
import { centsToDecimal, toCents } from '@ticketing/platform';
import type { ReserveResult } from './event-service';
import { applyMultiplier, sumCents, toBasisPoints } from './money';
import type { PriceTierRow, ReservationItemRow, ReservationRecord, ReservationRow } from './records';

const FULL_PRICE_BP = 10_000;

export interface RequestedSeat {
  session_seat_id: string;
  price_tier_id?: string;
}

/**
 * The rows of a new hold: one item per requested seat, in request order, labelled and priced from the event
 * service's answer and the seat's price tier (half up to the cent), and the reservation with their total.
 */
export function newReservationRows(
  request: { reservationId: string; userId: string; sessionId: string; seats: RequestedSeat[] },
  held: ReserveResult,
  tiers: Map<string, PriceTierRow>,
  bookingTime: Date,
  expiryTime: Date,
): { reservation: ReservationRow; items: ReservationItemRow[] } {
  const bySeat = new Map(held.seats.map((seat) => [seat.session_seat_id, seat]));
  const items: ReservationItemRow[] = request.seats.map((requested, position) => {
    const seat = bySeat.get(requested.session_seat_id);
    if (!seat) throw new Error(`Event service did not return held seat ${requested.session_seat_id}`);
    const tier = requested.price_tier_id ? tiers.get(requested.price_tier_id) : undefined;
    const priced = applyMultiplier(toCents(seat.price), tier ? toBasisPoints(tier.multiplier) : FULL_PRICE_BP);
    return {
      id: randomUUID(),
      reservation_id: request.reservationId,
      session_seat_id: seat.session_seat_id,
      seat_id: seat.seat_id ?? null,
      row_number: seat.row_number,
      seat_number: seat.seat_number,
      seat_type: seat.seat_type ?? null,
      price: centsToDecimal(priced.priceCents),
      discount_amount: centsToDecimal(priced.discountCents),
      final_price: centsToDecimal(priced.finalCents),
      price_tier_id: tier?.id ?? null,
      position,
    };
  });
  const reservation: ReservationRow = {
    id: request.reservationId,
    user_id: request.userId,
    session_id: request.sessionId,
    booking_time: bookingTime,
    expiry_time: expiryTime,
    seats_count: items.length,
    total_amount: centsToDecimal(sumCents(items.map((item) => toCents(item.final_price)))),
    status: 'active',
    session_starts_at: held.session_start_time ? new Date(held.session_start_time) : null,
    payment_id: null,
    payment_ref: null,
    confirmed_at: null,
    created_at: bookingTime,
    updated_at: bookingTime,
  };
  return { reservation, items };
}

/** A new hold as it was answered, and when: a replay under its Idempotency-Key answers exactly the same. */
export interface HoldAnswer extends ReservationRecord {
  answeredAt: Date;
}

/** What an Idempotency-Key stores for a replay (JSON: dates become ISO strings). */
export const storedHoldAnswer = (answer: HoldAnswer) => ({ reservation: answer.reservation, items: answer.items, answered_at: answer.answeredAt });

const RESERVATION_DATES = ['booking_time', 'expiry_time', 'confirmed_at', 'session_starts_at', 'created_at', 'updated_at'] as const;

/**
 * The answer an Idempotency-Key stored, back from JSON; undefined for a body stored by a version that kept the
 * rendered JSON (it is replayed as it is).
 */
export function revivedHoldAnswer(stored: unknown): HoldAnswer | undefined {
  const value = stored as { reservation?: Record<string, unknown>; items?: ReservationItemRow[]; answered_at?: string } | null;
  if (!value?.reservation || !value.items || !value.answered_at) return undefined;
  const reservation = { ...value.reservation };
  for (const field of RESERVATION_DATES) {
    const date = reservation[field];
    reservation[field] = typeof date === 'string' ? new Date(date) : null;
  }
  return { reservation: reservation as unknown as ReservationRow, items: value.items, answeredAt: new Date(value.answered_at) };
}
