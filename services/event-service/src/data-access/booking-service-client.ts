import { INTERNAL_TOKEN_HEADER } from '@ticketing/platform';
import { z } from 'zod';
import type { AskBooking, ReservationFate } from '../domain/lapsed-holds';

const answerSchema = z.object({
  reservations: z.array(
    z.object({
      reservation_id: z.string(),
      status: z.enum(['active', 'confirmed', 'expired', 'cancelled', 'refunded', 'pending', 'unknown']),
    }),
  ),
});

/** Ids per request (the booking route accepts up to 500). */
const IDS_PER_REQUEST = 500;

/**
 * Booking's POST /api/internal/reservations/status. Rejects on any failure (unreachable, timeout, non-200,
 * an answer of the wrong shape), so the caller keeps every hold it could not decide about.
 */
export function bookingReservationStatuses(options: { baseUrl: string; internalToken?: string; timeoutMs?: number }): AskBooking {
  const url = new URL('/api/internal/reservations/status', options.baseUrl);
  return async (reservationIds) => {
    const fates = new Map<string, ReservationFate>();
    for (let start = 0; start < reservationIds.length; start += IDS_PER_REQUEST) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.internalToken ? { [INTERNAL_TOKEN_HEADER]: options.internalToken } : {}),
        },
        body: JSON.stringify({ reservation_ids: reservationIds.slice(start, start + IDS_PER_REQUEST) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      if (response.status !== 200) throw new Error(`booking answered HTTP ${response.status} to reservations/status`);
      for (const answer of answerSchema.parse(await response.json()).reservations) {
        fates.set(answer.reservation_id.toLowerCase(), answer.status);
      }
    }
    return fates;
  };
}
