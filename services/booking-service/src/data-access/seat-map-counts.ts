import type { SeatCounts, SeatMapCounts } from '../domain/waiting-room-ports';

/**
 * How many seats of a session are available, on hold and sold, read from the event service's public seat map
 * (`GET /api/v1/sessions/{id}/seat-map`). The map carries an ETag, so asking again while nothing changed is a
 * 304 without a body: the admission ticker can ask every second per open waiting room.
 */
interface SeatMapBody {
  seats: Array<{ status: string }>;
}

export function createSeatMapCounts(options: { baseUrl: string; timeoutMs: number }): SeatMapCounts {
  const cache = new Map<string, { etag: string; counts: SeatCounts }>();
  return {
    async counts(sessionId) {
      const cached = cache.get(sessionId);
      const response = await fetch(new URL(`/api/v1/sessions/${encodeURIComponent(sessionId)}/seat-map`, options.baseUrl), {
        headers: cached ? { 'if-none-match': cached.etag } : {},
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.status === 304 && cached) return cached.counts;
      if (!response.ok) throw new Error(`Event service seat map for ${sessionId} answered ${response.status}`);
      const body = (await response.json()) as SeatMapBody;
      const counts: SeatCounts = { available: 0, reserved: 0, sold: 0 };
      for (const seat of body.seats) {
        if (seat.status === 'available' || seat.status === 'reserved' || seat.status === 'sold') counts[seat.status] += 1;
      }
      const etag = response.headers.get('etag');
      if (etag) cache.set(sessionId, { etag, counts });
      return counts;
    },
    forget(sessionId) {
      cache.delete(sessionId);
    },
  };
}
