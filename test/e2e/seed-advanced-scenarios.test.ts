/**
 * docs/user-flow.md's "Advanced Testing Scenarios": the race in two tabs, expiry, and multiple seats.
 */
import { randomUUID } from 'node:crypto';
import { eventually, request } from '../support/http';
import { startSystem, type RunningSystem } from '../support/system';

const SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';
const PRICE_TIER_ID = '5525e24a-fb4e-46bd-bebb-046efb9ffefe';
const SEAT_4 = 'fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd';
const SEAT_5 = '42a95132-a946-4569-8bba-010ed85a5ad3';

describe('the seed advanced scenarios', () => {
  let system: RunningSystem;

  beforeAll(async () => {
    // A 2-second hold so the expiry scenario does not wait ten minutes; the sweep runs every second.
    system = await startSystem('e2e_seed_advanced', { ttlSeconds: 2 });
  }, 60_000);
  afterAll(() => system?.stop());

  // The inventory's own answer (uncached): the public seat map may lag by SEAT_MAP_CACHE_MS, and a stale
  // "available" read right after a cancel would let the next scenario start before the seat is really free.
  const statusOf = async (sessionSeatId: string) => {
    const check = await request(system.eventUrl, 'POST', `/api/internal/sessions/${SESSION_ID}/seats/check-availability`, {
      body: { session_seat_ids: [sessionSeatId] },
    });
    return check.body.seats[0].status as string;
  };
  const reserve = (userId: string, seats: string[]) =>
    request(system.bookingUrl, 'POST', '/api/v1/reservations', {
      headers: { 'X-User-ID': userId },
      body: { session_id: SESSION_ID, seats: seats.map((id) => ({ session_seat_id: id, price_tier_id: PRICE_TIER_ID })) },
    });

  it('reservation expiry: an unconfirmed hold expires, the seat returns to available, and confirming answers 410', async () => {
    const userId = randomUUID();
    const hold = await reserve(userId, [SEAT_4]);
    expect(hold.status).toBe(201);
    expect(await eventually(async () => (await statusOf(SEAT_4)) === 'reserved', 2000)).toBe(true);
    const released = await eventually(async () => (await statusOf(SEAT_4)) === 'available', 8000);
    expect(released).toBe(true);
    const confirm = await request(system.bookingUrl, 'POST', `/api/v1/reservations/${hold.body.id}/confirm`, {
      headers: { 'X-User-ID': userId },
      body: { payment_id: randomUUID() },
    });
    expect(confirm.status).toBe(410);
    expect(confirm.body.error.message).toBe('Reservation expired');
  });

  it('concurrent booking: two tabs race for one seat, one wins and the other is told it is locked', async () => {
    const [first, second] = await Promise.all([reserve(randomUUID(), [SEAT_5]), reserve(randomUUID(), [SEAT_5])]);
    const statuses = [first.status, second.status].sort();
    expect(statuses).toEqual([201, 409]);
    const loser = first.status === 409 ? first : second;
    expect(loser.body.error.message).toBe('Seat already locked by another user');
    const winner = first.status === 201 ? first : second;
    await request(system.bookingUrl, 'DELETE', `/api/v1/reservations/${winner.body.id}`, {
      headers: { 'X-User-ID': winner.body.user_id },
    });
    expect(await eventually(async () => (await statusOf(SEAT_5)) === 'available')).toBe(true);
  });

  it('multiple seats: both seats are reserved together, then both sold after the confirm', async () => {
    const userId = randomUUID();
    const hold = await reserve(userId, [SEAT_4, SEAT_5]);
    expect(hold.status).toBe(201);
    expect(hold.body.seats_count).toBe(2);
    expect(hold.body.total_amount).toBe(200.0);
    const bothReserved = async () => (await statusOf(SEAT_4)) === 'reserved' && (await statusOf(SEAT_5)) === 'reserved';
    expect(await eventually(bothReserved, 2000)).toBe(true);
    const confirm = await request(system.bookingUrl, 'POST', `/api/v1/reservations/${hold.body.id}/confirm`, {
      headers: { 'X-User-ID': userId },
      body: { payment_id: randomUUID() },
    });
    expect(confirm.status).toBe(200);
    const sold = await eventually(async () => (await statusOf(SEAT_4)) === 'sold' && (await statusOf(SEAT_5)) === 'sold');
    expect(sold).toBe(true);
    const tickets = await request(system.bookingUrl, 'GET', `/api/v1/tickets/user/${userId}`, { headers: { 'X-User-ID': userId } });
    expect(tickets.body).toHaveLength(2);
  });
});
