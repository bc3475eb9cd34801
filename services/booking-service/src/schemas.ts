import { z } from 'zod';
import { toBasisPoints } from './domain/money';

/** Request and response schemas, declared once: they validate input and generate the OpenAPI document. */
const uuid = z.guid();
/** A UUID from the caller, in any letter case, normalised to lower case (Postgres' spelling) so ids compare exactly. */
const uuidInput = z.guid().transform((value) => value.toLowerCase());
const timestamp = z.iso.datetime({ offset: true });
const money = z.number().meta({ description: 'Amount with at most 2 decimals', example: 100.0 });
const seatLabel = z.union([z.string().trim().min(1).max(20), z.number().int().min(0).max(1_000_000)]);

export const idParams = z.object({ id: uuidInput });
export const userIdParams = z.object({ user_id: uuidInput });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

export const ticketPageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});

// ---- price tiers

const multiplier = z
  .number()
  .gt(0)
  .lte(1)
  .refine((value) => {
    try {
      toBasisPoints(value);
      return true;
    } catch {
      return false;
    }
  }, 'must have at most 4 decimals');

export const createPriceTierBody = z
  .object({
    session_id: uuidInput.nullable().optional().meta({ description: 'Session the tier applies to; omit for every session' }),
    name: z.string().trim().min(1).max(100),
    multiplier: multiplier.meta({ description: 'Share of the seat price paid: 0 < m <= 1, up to 4 decimals', example: 0.8 }),
    description: z.string().max(1_000).nullable().optional(),
  })
  .strict();

export const priceTierQuery = pageQuery.extend({ session_id: uuidInput.optional() });

export const priceTierSchema = z.object({
  id: uuid,
  session_id: uuid.nullable(),
  name: z.string(),
  multiplier: z.number(),
  description: z.string().nullable(),
  created_at: timestamp,
});

// ---- reservations

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
  is_used: z.boolean(),
  created_at: timestamp,
});

export const reservationWithTicketsSchema = reservationSchema.extend({ tickets: z.array(ticketSchema) });
