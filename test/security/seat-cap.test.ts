/**
 * Issue 10 "Hoarding": one user held all 200 seats of a session in 340 ms. Replayed: the same user asks for
 * every seat at once in parallel requests; at most MAX_SEATS_PER_USER_PER_SESSION (default 10) are held.
 */
import {
  asUser,
  createTestSession,
  newUser,
  request,
  reserve,
  seatStates,
  useBookingSystem,
} from '../../services/booking-service/test/support/harness';

const system = useBookingSystem({ booking: true, eventDb: true });

function countBy<T>(values: T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

describe('the per-user seat cap', () => {
  test('when one user asks for all 200 seats in 200 parallel requests, then at most 10 are held and the rest get 409 SEAT_CAP_EXCEEDED', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 200 });
    const hoarder = newUser();
    const responses = await Promise.all(seatIds.map((seatId) => reserve(system.booking.url, hoarder, sessionId, [seatId])));
    const codes = countBy(responses.map((response) => (response.status === 201 ? 201 : `${response.status} ${response.body.error?.code}`)));
    const held = [...(await seatStates(system.eventDb, seatIds)).values()].filter((seat) => seat.status !== 'available').length;
    const refused = responses.filter((response) => response.status === 409).length;
    const lost = responses.filter((response) => response.status >= 500).length;
    console.log(`seat cap: tried 200, created ${codes[201] ?? 0}, refused ${refused} ${JSON.stringify(codes)}, seats held ${held}, lost: ${lost}`);
    expect(codes[201]).toBe(10);
    expect(held).toBe(10);
    expect(codes['409 SEAT_CAP_EXCEEDED']).toBe(190);
    expect(lost).toBe(0);
    const refusal = responses.find((response) => response.body.error?.code === 'SEAT_CAP_EXCEEDED');
    expect(refusal?.body.error.details).toMatchObject({ limit: 10, held: expect.any(Number), requested: 1, session_id: sessionId });
  });

  test('when one user asks for 10-seat blocks in parallel, then only one block fits; another user and another session are unaffected', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 100 });
    const hoarder = newUser();
    const blocks = Array.from({ length: 10 }, (_, i) => seatIds.slice(i * 10, i * 10 + 10));
    const responses = await Promise.all(blocks.map((block) => reserve(system.booking.url, hoarder, sessionId, block.slice(0, 9))));
    expect(countBy(responses.map((response) => response.status))).toEqual({ 201: 1, 409: 9 });

    const neighbour = await reserve(system.booking.url, newUser(), sessionId, [seatIds[99]]);
    expect(neighbour.status).toBe(201);
    const other = await createTestSession(system.event.url, { seats: 2 });
    expect((await reserve(system.booking.url, hoarder, other.sessionId, other.seatIds)).status).toBe(201);
  });

  test('when the user cancels a hold, then its seats no longer count against the cap', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 20 });
    const user = newUser();
    const first = await reserve(system.booking.url, user, sessionId, seatIds.slice(0, 10));
    expect(first.status).toBe(201);
    const over = await reserve(system.booking.url, user, sessionId, [seatIds[10]]);
    expect([over.status, over.body.error.code, over.body.error.details.held]).toEqual([409, 'SEAT_CAP_EXCEEDED', 10]);
    expect((await request(system.booking.url, 'DELETE', `/api/v1/reservations/${first.body.id}`, asUser(user))).status).toBe(200);
    expect((await reserve(system.booking.url, user, sessionId, seatIds.slice(10, 20))).status).toBe(201);
  });
});
