import { randomUUID } from 'node:crypto';
import type { EventApi } from '../src/entry-points/api';
import { request } from '../../../test/support/http';
import { startTestApi } from './support/api';
import { createSessionFixture, inMinutes } from './support/fixtures';

let api: EventApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

/** A deterministic spread of overlapping seat windows, so every run exercises the same contention. */
function overlappingSets(seatIds: string[], count: number): string[][] {
  return Array.from({ length: count }, (_, i) => {
    const size = 1 + (i % 4);
    const start = (i * 3) % (seatIds.length - size + 1);
    // Reverse every other set so concurrent calls ask for the same seats in different orders.
    const window = seatIds.slice(start, start + size);
    return i % 2 ? window.reverse() : window;
  });
}

test('when 50 reservations race for overlapping seats, every seat is held at most once and no hold is partial', async () => {
  const session = await createSessionFixture(api.db, { rows: 2, seatsPerRow: 6 });
  const attempts: Array<{ reservationId: string; seatIds: string[] }> = overlappingSets(session.seatIds, 50).map(
    (seatIds) => ({ reservationId: randomUUID(), seatIds }),
  );

  const responses = await Promise.all(
    attempts.map((attempt) =>
      request(api.url, 'POST', `/api/internal/sessions/${session.sessionId}/seats/reserve`, {
        body: {
          reservation_id: attempt.reservationId,
          session_seat_ids: attempt.seatIds,
          reserved_until: inMinutes(10).toISOString(),
        },
      }),
    ),
  );

  expect(responses.map((r) => r.status).filter((status) => status !== 200 && status !== 409)).toEqual([]);
  const winners = attempts.filter((_, i) => responses[i].status === 200);
  const losers = attempts.filter((_, i) => responses[i].status === 409);
  expect(winners.length).toBeGreaterThan(0);
  expect(losers.length).toBeGreaterThan(0);
  for (const [i, response] of responses.entries()) {
    if (response.status === 409) expect(response.body.error.code).toBe('SEATS_UNAVAILABLE');
    else expect(response.body.seats.map((s: { session_seat_id: string }) => s.session_seat_id)).toEqual(attempts[i].seatIds);
  }

  const rows: Array<{ id: string; status: string; reservation_id: string | null }> = await api
    .db('session_seats')
    .select('id', 'status', 'reservation_id')
    .where({ session_id: session.sessionId });
  const holderOf = new Map(rows.map((row) => [row.id, row.reservation_id]));
  // Every winner holds all of its seats…
  for (const winner of winners) {
    expect(winner.seatIds.map((id) => holderOf.get(id))).toEqual(winner.seatIds.map(() => winner.reservationId));
  }
  // …no two winners share a seat…
  const claimed = winners.flatMap((winner) => winner.seatIds);
  expect(new Set(claimed).size).toBe(claimed.length);
  // …and no loser holds anything, nor does any seat name a reservation that did not win.
  const loserIds = new Set(losers.map((loser) => loser.reservationId));
  expect(rows.filter((row) => row.reservation_id && loserIds.has(row.reservation_id))).toEqual([]);
  const winnerIds = new Set(winners.map((winner) => winner.reservationId));
  for (const row of rows) {
    if (row.reservation_id) expect(winnerIds.has(row.reservation_id)).toBe(true);
    expect(row.status).toBe(row.reservation_id ? 'reserved' : 'available');
  }
  expect(rows.filter((row) => row.status === 'reserved')).toHaveLength(claimed.length);
});
