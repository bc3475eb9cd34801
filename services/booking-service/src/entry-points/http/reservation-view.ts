import { fromCents, toCents } from '@ticketing/platform';
import type { z } from 'zod';
import type { ReservationRecord, ReservationRow, ReservationWithTickets, TicketRow } from '../../domain/records';
import { qrTextOf } from '../../domain/ticket-code';
import { pngDataUri } from '../../lib/qr-png';
import type { reservationSchema, reservationWithTicketsSchema, ticketSchema } from '../../schemas/reservations';

/**
 * How the HTTP routes render the domain's rows: the seed's JSON bodies, typed by the response schemas that
 * validate and document them.
 */
type ReservationBody = z.infer<typeof reservationSchema>;
type TicketBody = z.infer<typeof ticketSchema>;
type ReservationWithTicketsBody = z.infer<typeof reservationWithTicketsSchema>;

const money = (value: string) => fromCents(toCents(value));

/** Seconds left on an active hold, computed at read time; 0 for anything that is not an active hold. */
export function timeRemainingSeconds(row: Pick<ReservationRow, 'status' | 'expiry_time'>, now = Date.now()): number {
  if (row.status !== 'active') return 0;
  return Math.max(0, Math.ceil((row.expiry_time.getTime() - now) / 1000));
}

export function toReservationBody({ reservation: row, items }: ReservationRecord, now = Date.now()): ReservationBody {
  return {
    id: row.id,
    user_id: row.user_id,
    session_id: row.session_id,
    booking_time: row.booking_time.toISOString(),
    expiry_time: row.expiry_time.toISOString(),
    seats_count: row.seats_count,
    total_amount: money(row.total_amount),
    status: row.status,
    items: [...items]
      .sort((a, b) => a.position - b.position)
      .map((item) => ({
        id: item.id,
        session_seat_id: item.session_seat_id,
        row_number: item.row_number,
        seat_number: item.seat_number,
        price: money(item.price),
        discount_amount: money(item.discount_amount),
        final_price: money(item.final_price),
        price_tier_id: item.price_tier_id,
      })),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    time_remaining_seconds: timeRemainingSeconds(row, now),
  };
}

export function toReservationWithTicketsBody(record: ReservationWithTickets): ReservationWithTicketsBody {
  return { ...toReservationBody(record), tickets: record.tickets.map(toTicketBody) };
}

export function toTicketBody(row: TicketRow): TicketBody {
  return {
    id: row.id,
    reservation_id: row.reservation_id,
    user_id: row.user_id,
    session_id: row.session_id,
    session_seat_id: row.session_seat_id,
    row_number: row.row_number,
    seat_number: row.seat_number,
    price: money(row.price),
    status: row.status,
    qr_code: pngDataUri(row.qr_png),
    code: qrTextOf(row.id, row.ticket_code),
    is_used: row.status === 'used',
    created_at: row.created_at.toISOString(),
  };
}
