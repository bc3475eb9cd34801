import { z } from 'zod';
import { money, seatLabel, timestamp, uuid, uuidInput } from './common';

const seatRequest = z
  .object({
    session_seat_id: uuidInput,
    row_number: seatLabel.optional().meta({ description: 'Ignored: taken from the event service' }),
    seat_number: seatLabel.optional().meta({ description: 'Ignored: taken from the event service' }),
    price_tier_id: uuidInput.optional(),
  })
  .strict();

export function createReservationBody(maxSeats: number) {
  return z
    .object({
      session_id: uuidInput,
      seats: z.array(seatRequest).min(1).max(maxSeats),
    })
    .strict()
    .superRefine((body, ctx) => {
      const seen = new Set<string>();
      body.seats.forEach((seat, index) => {
        if (seen.has(seat.session_seat_id)) {
          ctx.addIssue({ code: 'custom', path: ['seats', index, 'session_seat_id'], message: 'duplicate session_seat_id' });
        }
        seen.add(seat.session_seat_id);
      });
    });
}

export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: 'Repeating a POST with the same key (and body) returns the first answer instead of booking twice' }),
});

/** No body, `{}` or `{payment_id}`: without a payment id the provider makes one (the original clients send none). */
export const confirmBody = z
  .object({ payment_id: z.string().trim().min(1).max(100).optional() })
  .strict()
  .optional()
  .transform((body) => body ?? {});

const reservationStatus = z.enum(['active', 'confirmed', 'expired', 'cancelled', 'refunded']);

export const reservationItemSchema = z.object({
  id: uuid,
  session_seat_id: uuid,
  row_number: z.string(),
  seat_number: z.string(),
  price: money,
  discount_amount: money,
  final_price: money,
  price_tier_id: uuid.nullable(),
});

export const reservationSchema = z.object({
  id: uuid,
  user_id: uuid,
  session_id: uuid,
  booking_time: timestamp,
  expiry_time: timestamp,
  seats_count: z.number().int(),
  total_amount: money,
  status: reservationStatus,
  items: z.array(reservationItemSchema),
  created_at: timestamp,
  updated_at: timestamp,
  time_remaining_seconds: z.number().int().meta({ description: 'Seconds left on an active hold; 0 otherwise' }),
});

export const ticketSchema = z.object({
  id: uuid,
  reservation_id: uuid,
  user_id: uuid,
  session_id: uuid,
  session_seat_id: uuid,
  row_number: z.string(),
  seat_number: z.string(),
  price: money,
  status: z.enum(['active', 'used', 'refunded']),
  qr_code: z.string().meta({ description: 'data:image/png;base64,…' }),
  code: z.string().meta({
    description:
      'The exact text of the QR code: an Ed25519-signed compact JWS (typ ticket+jwt) verifiable with GET /ticket-keys; ' +
      'tickets issued before signed codes carry their legacy TICKET:<id>:<nonce>.<hmac> text',
  }),
  is_used: z.boolean(),
  created_at: timestamp,
});

export const reservationWithTicketsSchema = reservationSchema.extend({ tickets: z.array(ticketSchema) });

export const QUEUE_ADMISSION_HEADER = 'x-queue-admission';

export const reservationHeaders = idempotencyHeaders.extend({
  [QUEUE_ADMISSION_HEADER]: z
    .string()
    .max(2_000)
    .optional()
    .meta({ description: 'The admission token from GET /queue/{queue_ticket}: required on sessions with a waiting room' }),
});
