import { z } from 'zod';
import { timestamp, uuid } from './common';

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
