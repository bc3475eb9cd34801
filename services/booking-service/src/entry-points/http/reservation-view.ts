import { fromCents, toCents } from '@ticketing/platform';
import type { ReservationRecord, ReservationRow, ReservationWithTickets, TicketRow } from '../../domain/records';
import { qrTextOf } from '../../domain/ticket-code';
import { pngDataUri } from '../../lib/qr-png';

/** How the HTTP routes render the domain's rows: the seed's JSON bodies. */

/** The seed's reservation body. */
export interface ReservationBody {
  id: string;
  user_id: string;
  session_id: string;
  booking_time: string;
  expiry_time: string;
  seats_count: number;
  total_amount: number;
  status: ReservationRow['status'];
  items: ReservationItemBody[];
  created_at: string;
  updated_at: string;
  time_remaining_seconds: number;
}

export interface ReservationItemBody {
  id: string;
  session_seat_id: string;
  row_number: string;
  seat_number: string;
  price: number;
  discount_amount: number;
  final_price: number;
  price_tier_id: string | null;
}

export interface TicketBody {
  id: string;
  reservation_id: string;
  user_id: string;
  session_id: string;
  session_seat_id: string;
  row_number: string;
  seat_number: string;
  price: number;
  status: TicketRow['status'];
  qr_code: string;
  /** The exact text in the QR code: what a scanner reads and POST /check-ins takes. */
  code: string;
  is_used: boolean;
  created_at: string;
}

export type ReservationWithTicketsBody = ReservationBody & { tickets: TicketBody[] };

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
