import { z } from 'zod';
import { toBasisPoints } from './domain/money';
import { QUEUE_TICKET_PATTERN } from './domain/waiting-room-rules';

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
  code: z.string().meta({
    description:
      'The exact text of the QR code: an Ed25519-signed compact JWS (typ ticket+jwt) verifiable with GET /ticket-keys; ' +
      'tickets issued before signed codes carry their legacy TICKET:<id>:<nonce>.<hmac> text',
  }),
  is_used: z.boolean(),
  created_at: timestamp,
});

export const reservationWithTicketsSchema = reservationSchema.extend({ tickets: z.array(ticketSchema) });

// ---- check-in at the door

/** A scanned code: a signed ticket code (compact JWS) or a legacy TICKET:… text; long enough for either. */
const scannedCode = z.string().trim().min(1).max(2_048).meta({ description: 'The exact text read from the QR code' });
const gate = z.string().trim().min(1).max(64).meta({ description: 'Where the scan happened, e.g. "north-1"' });

export const checkInBody = z.object({ code: scannedCode, session_id: uuid, gate: gate.optional() });

const seatSummary = z.object({ session_seat_id: uuid, row_number: z.string(), seat_number: z.string() });
const ticketSummarySchema = z.object({
  ticket_id: uuid,
  session_id: uuid,
  seat: seatSummary,
  holder: z.object({ user_id: uuid, reservation_id: uuid }),
});

export const admittedSchema = ticketSummarySchema.extend({
  result: z.literal('ADMITTED'),
  admitted_at: timestamp,
  gate: z.string().nullable(),
});

/** Offline scanners upload at most this many scans per request; more go in further batches. */
export const MAX_BATCH_SCANS = 1_000;

export const checkInBatchBody = z.object({
  session_id: uuid,
  gate: gate.optional().meta({ description: 'Default gate of the scans that name none' }),
  scans: z
    .array(
      z.object({
        code: scannedCode,
        scanned_at: timestamp.meta({ description: 'When the scanner read the code (its own clock)' }),
        gate: gate.optional(),
        scan_id: z.string().max(128).optional().meta({ description: 'The scanner’s id for the scan, echoed back' }),
      }),
    )
    .min(1)
    .max(MAX_BATCH_SCANS),
});

const batchResult = z.enum(['ADMITTED', 'DUPLICATE', 'REVOKED', 'WRONG_SESSION', 'INVALID_CODE']);
export const checkInBatchSchema = z.object({
  session_id: uuid,
  results: z.array(
    z.object({
      index: z.number().int(),
      scan_id: z.string().optional(),
      result: batchResult,
      ticket_id: uuid.nullable(),
      scanned_at: timestamp,
      gate: z.string().nullable(),
      first_admitted_at: timestamp.optional().meta({ description: 'DUPLICATE: when the ticket was admitted first' }),
      first_gate: z.string().nullable().optional(),
      reason: z.string().optional().meta({ description: 'INVALID_CODE: why (malformed, unknown_key, bad_signature, expired, …)' }),
    }),
  ),
  counts: z.record(batchResult, z.number().int()),
});

const publicJwk = z.object({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string(),
  kid: z.string(),
  alg: z.literal('EdDSA'),
  use: z.literal('sig'),
});
export const ticketKeysSchema = z.object({ keys: z.array(publicJwk) }).meta({ description: 'JWKS: public keys only' });

export const checkInListSchema = z.object({
  session_id: uuid,
  version: z.string().meta({ description: 'Changes whenever a ticket of the session is issued, admitted or revoked' }),
  generated_at: timestamp,
  keys: ticketKeysSchema,
  valid_ticket_ids: z.array(uuid),
  admitted: z.array(z.object({ ticket_id: uuid, admitted_at: timestamp, gate: z.string().nullable() })),
  revoked_ticket_ids: z.array(uuid),
});

// ---- waiting room

export const QUEUE_ADMISSION_HEADER = 'x-queue-admission';

export const reservationHeaders = idempotencyHeaders.extend({
  [QUEUE_ADMISSION_HEADER]: z
    .string()
    .max(2_000)
    .optional()
    .meta({ description: 'The admission token from GET /queue/{queue_ticket}: required on sessions with a waiting room' }),
});

export const waitingRoomBody = z
  .object({
    opens_at: timestamp.meta({ description: 'When the queue opens: everyone who joined before gets a random place then' }),
    admission_rate_per_second: z.number().gt(0).max(10_000).meta({ description: 'Buyers admitted per second', example: 100 }),
    hold_window_seconds: z
      .number()
      .int()
      .min(10)
      .max(3_600)
      .meta({ description: 'How long an admitted buyer has to hold seats before the slot goes to the next one', example: 120 }),
  })
  .strict();

export const waitingRoomSchema = z.object({
  session_id: uuid,
  opens_at: timestamp,
  admission_rate_per_second: z.number(),
  hold_window_seconds: z.number().int(),
  state: z.enum(['WAITING_FOR_OPENING', 'OPEN', 'SOLD_OUT']),
});

export const queueTicketParams = z.object({
  ticket: z.string().regex(QUEUE_TICKET_PATTERN, 'must be a queue ticket from POST /sessions/{id}/queue'),
});

export const queueStatusSchema = z.object({
  queue_ticket: z.string(),
  session_id: uuid,
  status: z
    .enum(['WAITING_FOR_OPENING', 'QUEUED', 'ADMITTED', 'SOLD_OUT', 'NOT_IN_QUEUE'])
    .meta({ description: 'NOT_IN_QUEUE: admitted earlier and the hold window passed; join again for a new place' }),
  position: z.number().int().nullable().meta({ description: '1 = admitted next; null before the opening draw' }),
  ahead: z.number().int().nullable(),
  waiting: z.number().int(),
  estimated_wait_seconds: z.number().int().nullable(),
  opens_at: timestamp,
  admission_rate_per_second: z.number(),
  admission: z
    .object({ token: z.string(), expires_at: timestamp })
    .nullable()
    .meta({ description: 'Once ADMITTED: send token as X-Queue-Admission with POST /reservations before expires_at' }),
});
