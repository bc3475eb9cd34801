/** Row shapes as Postgres returns them (NUMERIC as strings, timestamps as Date). */
export type ReservationStatus = 'active' | 'confirmed' | 'expired' | 'cancelled' | 'refunded';
export type TicketStatus = 'active' | 'used' | 'refunded';

export interface PriceTierRow {
  id: string;
  session_id: string | null;
  name: string;
  multiplier: string;
  description: string | null;
  created_at: Date;
}

export interface ReservationRow {
  id: string;
  user_id: string;
  session_id: string;
  booking_time: Date;
  expiry_time: Date;
  seats_count: number;
  total_amount: string;
  status: ReservationStatus;
  payment_id: string | null;
  confirmed_at: Date | null;
  /** The session's start time, as the event service said when the hold was placed (null before migration 003). */
  session_starts_at: Date | null;
  /** The payments row whose authorization won the confirm (null before migration 003 or until confirmed). */
  payment_ref: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ReservationItemRow {
  id: string;
  reservation_id: string;
  session_seat_id: string;
  seat_id: string | null;
  row_number: string;
  seat_number: string;
  seat_type: string | null;
  price: string;
  discount_amount: string;
  final_price: string;
  price_tier_id: string | null;
  position: number;
}

export interface TicketRow {
  id: string;
  reservation_id: string;
  reservation_item_id: string;
  user_id: string;
  session_id: string;
  session_seat_id: string;
  row_number: string;
  seat_number: string;
  price: string;
  status: TicketStatus;
  ticket_code: string;
  qr_png: Buffer;
  refunded_at: Date | null;
  used_at: Date | null;
  checked_in_gate: string | null;
  checked_in_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface OutboxRow {
  id: string;
  routing_key: string;
  payload: unknown;
  headers: Record<string, string>;
  created_at: Date;
  published_at: Date | null;
  attempts: number;
  last_error: string | null;
}

export interface IdempotencyRow {
  user_id: string;
  key: string;
  request_hash: string;
  reservation_id: string;
  response_status: number | null;
  response_body: unknown;
  created_at: Date;
  updated_at: Date;
}

export interface PendingHoldRow {
  reservation_id: string;
  user_id: string;
  session_id: string;
  session_seat_ids: string[];
  created_at: Date;
  abandoned_at: Date | null;
}

export type PaymentState = 'pending' | 'authorized' | 'captured' | 'voiding' | 'voided' | 'declined' | 'refunded';

/** One confirm attempt's payment: authorized, then captured (it won) or voided (it lost). */
export interface PaymentRow {
  id: string;
  reservation_id: string;
  payment_id: string;
  authorization_id: string | null;
  amount: string;
  captured_amount: string;
  refunded_amount: string;
  state: PaymentState;
  decline_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface PaymentRefundRow {
  id: string;
  payment_row_id: string;
  ticket_id: string;
  amount: string;
  state: 'pending' | 'done';
  provider_refund_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A reservation with its items (in position order), as the use cases answer it; the HTTP routes render it. */
export interface ReservationRecord {
  reservation: ReservationRow;
  items: ReservationItemRow[];
}

/** A reservation with its items and tickets (tickets once confirmed). */
export interface ReservationWithTickets extends ReservationRecord {
  tickets: TicketRow[];
}
