import { z } from 'zod';
import { money, seatStatus, sessionSeatIds, timestamp, timestampOutput, uuid, uuidOutput } from './common';

export const sessionParams = z.object({ id: uuid });

export const checkAvailabilityBody = z.object({ session_seat_ids: sessionSeatIds }).strict();
export const availabilityResponse = z.object({
  available: z.boolean(),
  seats: z.array(z.object({ session_seat_id: uuidOutput, status: z.enum([...seatStatus.options, 'not_found']) })),
});

export const pricingQuery = z.object({
  session_seat_ids: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const parsed = sessionSeatIds.safeParse(value.split(',').map((id) => id.trim()));
      if (!parsed.success) {
        for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
        return z.NEVER;
      }
      return parsed.data;
    })
    .meta({ description: 'Comma-separated session seat ids (up to 100); all seats of the session when omitted' }),
});
export const pricingResponse = z.object({
  session_id: uuidOutput,
  base_price: money,
  currency: z.literal('USD'),
  seats: z.array(z.object({ session_seat_id: uuidOutput, price: money })),
});

export const reserveBody = z
  .object({
    reservation_id: uuid,
    session_seat_ids: sessionSeatIds,
    reserved_until: timestamp,
  })
  .strict();
export const reserveResponse = z.object({
  reservation_id: uuidOutput,
  session_id: uuidOutput,
  reserved_until: timestampOutput,
  session_start_time: timestampOutput,
  seats: z.array(
    z.object({
      session_seat_id: uuidOutput,
      seat_id: uuidOutput,
      row_number: z.string(),
      seat_number: z.string(),
      seat_type: z.string(),
      price: money,
      status: z.literal('reserved'),
    }),
  ),
});

export const reservationSeatsBody = z.object({ reservation_id: uuid, session_seat_ids: sessionSeatIds }).strict();
export const releaseResponse = z.object({ reservation_id: uuidOutput, released: z.array(uuidOutput) });
export const confirmResponse = z.object({ reservation_id: uuidOutput, sold: z.array(uuidOutput) });
