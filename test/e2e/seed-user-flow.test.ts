/**
 * docs/user-flow.md (the seed's USER_FLOW.md), verbatim: its ids, its requests, its checklist — through both services and RabbitMQ.
 */
import { eventually, request } from '../support/http';
import { startSystem, type RunningSystem } from '../support/system';

const SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';
const HALL_ID = '24c9d755-b21c-42b0-b9d9-42f11e5fe6b5';
const USER_ID = '123e4567-e89b-12d3-a456-426614174000';
const PRICE_TIER_ID = '5525e24a-fb4e-46bd-bebb-046efb9ffefe';
const SEAT_4 = { session_seat_id: 'fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd', seat_id: '09832325-0860-4429-9c9d-5e5325da7af1' };
const SEAT_5 = { session_seat_id: '42a95132-a946-4569-8bba-010ed85a5ad3', seat_id: '1567af4c-fe5e-4dc4-bf73-bf8bedbf3915' };
const PAYMENT_ID = '99999999-0000-0000-0000-000000000001';
const asUser = { 'X-User-ID': USER_ID };

const seatIn = (map: any, sessionSeatId: string) => map.seats.find((s: any) => s.session_seat_id === sessionSeatId);

describe('the seed user flow, steps 1 to 7', () => {
  let system: RunningSystem;
  let reservationId: string;
  let ticketId: string;

  beforeAll(async () => {
    system = await startSystem('e2e_seed_flow', { internalToken: 'e2e-internal-token' });
  }, 60_000);
  afterAll(() => system?.stop());

  const seatMap = async () => (await request(system.eventUrl, 'GET', `/api/v1/sessions/${SESSION_ID}/seat-map`)).body;

  it('step 1: the seat map shows row 1 seats 4 and 5 available at 100.0', async () => {
    const response = await request(system.eventUrl, 'GET', `/api/v1/sessions/${SESSION_ID}/seat-map`);
    expect(response.status).toBe(200);
    expect(response.body.session_id).toBe(SESSION_ID);
    expect(response.body.hall_id).toBe(HALL_ID);
    for (const seat of [SEAT_4, SEAT_5]) {
      expect(seatIn(response.body, seat.session_seat_id)).toEqual({
        session_seat_id: seat.session_seat_id,
        seat_id: seat.seat_id,
        row_number: '1',
        seat_number: seat === SEAT_4 ? '4' : '5',
        price: 100.0,
        status: 'available',
        reserved_until: null,
      });
    }
  });

  it('step 2: creating the reservation answers 201 with the seed body', async () => {
    expect(seatIn(await seatMap(), SEAT_4.session_seat_id).status).toBe('available'); // the map is cached now
    const response = await request(system.bookingUrl, 'POST', '/api/v1/reservations', {
      headers: asUser,
      body: {
        session_id: SESSION_ID,
        seats: [{ session_seat_id: SEAT_4.session_seat_id, row_number: '1', seat_number: '4', price_tier_id: PRICE_TIER_ID }],
      },
    });
    expect(response.status).toBe(201);
    const body = response.body;
    reservationId = body.id;
    expect(body).toMatchObject({
      user_id: USER_ID,
      session_id: SESSION_ID,
      seats_count: 1,
      total_amount: 100.0,
      status: 'active',
    });
    expect(new Date(body.expiry_time).getTime() - new Date(body.booking_time).getTime()).toBe(600_000);
    expect(body.time_remaining_seconds).toBeGreaterThan(590);
    expect(body.time_remaining_seconds).toBeLessThanOrEqual(600);
    expect(body.items).toEqual([
      expect.objectContaining({
        session_seat_id: SEAT_4.session_seat_id,
        row_number: '1',
        seat_number: '4',
        price: 100.0,
        discount_amount: 0.0,
        final_price: 100.0,
      }),
    ]);
    for (const key of ['id', 'booking_time', 'created_at', 'updated_at']) expect(body[key]).toEqual(expect.any(String));
  });

  it('step 3, read straight after step 2: the seat is reserved until the reservation expires', async () => {
    // Step 1 left the map cached; the hold went through this same event API instance, which dropped it.
    const seat = seatIn(await seatMap(), SEAT_4.session_seat_id);
    const reservation = await request(system.bookingUrl, 'GET', `/api/v1/reservations/${reservationId}`, { headers: asUser });
    expect(seat.status).toBe('reserved');
    expect(new Date(seat.reserved_until).getTime()).toBe(new Date(reservation.body.expiry_time).getTime());
    expect(seatIn(await seatMap(), SEAT_5.session_seat_id).status).toBe('available');
  });

  it('step 4: confirming with the payment id answers confirmed', async () => {
    const response = await request(system.bookingUrl, 'POST', `/api/v1/reservations/${reservationId}/confirm`, {
      headers: asUser,
      body: { payment_id: PAYMENT_ID },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: reservationId,
      user_id: USER_ID,
      session_id: SESSION_ID,
      status: 'confirmed',
      total_amount: 100.0,
      seats_count: 1,
    });
  });

  it('step 5: the seat shows sold well within the seed\'s 2-3 seconds (through RabbitMQ)', async () => {
    const seat = await eventually(async () => {
      const current = seatIn(await seatMap(), SEAT_4.session_seat_id);
      return current.status === 'sold' ? current : undefined;
    }, 3000);
    expect(seat).toMatchObject({ status: 'sold', reserved_until: expect.any(String) });
  });

  it('step 6: the ticket is listed for the user with a QR code', async () => {
    const response = await request(system.bookingUrl, 'GET', `/api/v1/tickets/user/${USER_ID}`, { headers: asUser });
    expect(response.status).toBe(200);
    expect(response.body).toHaveLength(1);
    const ticket = response.body[0];
    ticketId = ticket.id;
    expect(ticket).toMatchObject({
      reservation_id: reservationId,
      user_id: USER_ID,
      session_id: SESSION_ID,
      session_seat_id: SEAT_4.session_seat_id,
      row_number: '1',
      seat_number: '4',
      price: 100.0,
      status: 'active',
      is_used: false,
    });
    expect(ticket.qr_code).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]{100,}$/);
  });

  it('step 7: the QR code is served as a PNG image', async () => {
    const response = await fetch(`${system.bookingUrl}/api/v1/tickets/${ticketId}/qr`, { headers: asUser });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await response.arrayBuffer());
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });

  it('troubleshooting: booking the sold seat again is refused with a 409, never a 5xx', async () => {
    const response = await request(system.bookingUrl, 'POST', '/api/v1/reservations', {
      headers: { 'X-User-ID': '00000000-0000-4000-8000-000000000002' },
      body: { session_id: SESSION_ID, seats: [{ session_seat_id: SEAT_4.session_seat_id, price_tier_id: PRICE_TIER_ID }] },
    });
    expect(response.status).toBe(409);
    expect(response.body.error.message).toBe('Seat already locked by another user');
  });
});
