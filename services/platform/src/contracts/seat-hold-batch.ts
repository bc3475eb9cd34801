import { z } from 'zod';

/**
 * The internal batch hold call (booking → event service), declared once for both sides: the event service
 * validates requests and documents the route with these schemas, the booking service decodes the answer.
 */
const uuid = z.guid().transform((value) => value.toLowerCase());
const label = z.union([z.string(), z.number()]).transform(String);

/** Most reservations in one call (the booking service's batch size cap). */
export const MAX_HOLDS_PER_BATCH = 128;

export const seatHoldRequestSchema = z
  .object({
    session_id: uuid,
    reservation_id: uuid,
    session_seat_ids: z.array(uuid).min(1).max(100),
    reserved_until: z.iso.datetime({ offset: true }),
  })
  .strict();

export const seatHoldBatchRequestSchema = z
  .object({ holds: z.array(seatHoldRequestSchema).min(1).max(MAX_HOLDS_PER_BATCH) })
  .strict()
  .meta({ description: 'Reservations to hold, in arrival order: when two want one seat, the earlier one gets it' });

export const heldSeatSchema = z.object({
  session_seat_id: z.string(),
  seat_id: z.string().nullish(),
  row_number: label,
  seat_number: label,
  seat_type: z.string().nullish(),
  price: z.union([z.number(), z.string()]),
  status: z.literal('reserved'),
});

export const seatHoldSchema = z.object({
  reservation_id: z.string(),
  session_id: z.string(),
  reserved_until: z.string().nullish(),
  session_start_time: z.string().nullish(),
  seats: z.array(heldSeatSchema),
});

/** One reservation's answer: what the single hold call would have answered (200 with the hold, or its error). */
export const seatHoldOutcomeSchema = z.union([
  z.object({ status: z.literal(200), hold: seatHoldSchema }),
  z.object({
    status: z.number().int().min(400).max(599),
    error: z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }),
  }),
]);

export const seatHoldBatchResponseSchema = z.object({
  results: z.array(seatHoldOutcomeSchema).meta({ description: 'One per requested hold, in request order' }),
});

export type SeatHoldRequest = z.infer<typeof seatHoldRequestSchema>;
export type SeatHoldBatchRequest = z.infer<typeof seatHoldBatchRequestSchema>;
export type SeatHold = z.infer<typeof seatHoldSchema>;
export type SeatHoldOutcome = z.infer<typeof seatHoldOutcomeSchema>;
export type SeatHoldBatchResponse = z.infer<typeof seatHoldBatchResponseSchema>;
