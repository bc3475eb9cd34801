import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { verifyTicketCodeWithJwks } from '../src/domain/ticket-signing';
import {
  asUser,
  confirm,
  createTestSession,
  expireNow,
  newUser,
  outboxRows,
  paymentId,
  request,
  reserve,
  seatStates,
  useBookingSystem,
} from './support/harness';

const system = useBookingSystem({ booking: true, eventDb: true });

async function heldReservation(seats = 1) {
  const { sessionId, seatIds } = await createTestSession(system.event.url, { seats });
  const user = newUser();
  const created = await reserve(system.booking.url, user, sessionId, seatIds);
  expect(created.status).toBe(201);
  return { user, sessionId, seatIds, reservation: created.body };
}

describe('confirming a reservation', () => {
  it('confirms, issues one ticket per seat with a QR code and writes reservation.confirmed to the outbox', async () => {
    const { user, sessionId, seatIds, reservation } = await heldReservation(2);
    const payment = paymentId('approved');

    const response = await confirm(system.booking.url, user, reservation.id, payment);

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: reservation.id,
      user_id: user,
      session_id: sessionId,
      status: 'confirmed',
      total_amount: 200,
      seats_count: 2,
      time_remaining_seconds: 0,
    });
    expect(response.body.tickets).toHaveLength(2);
    expect(response.body.tickets.map((t: any) => t.session_seat_id)).toEqual(seatIds);
    for (const ticket of response.body.tickets) {
      expect(ticket).toMatchObject({
        reservation_id: reservation.id,
        user_id: user,
        session_id: sessionId,
        row_number: '1',
        price: 100,
        status: 'active',
        is_used: false,
        qr_code: expect.stringMatching(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/),
      });
    }

    const rows = await outboxRows(system.booking.db, reservation.id);
    expect(rows.map((row: any) => row.routing_key)).toEqual(['reservation.confirmed']);
    expect(rows[0].payload).toMatchObject({
      id: rows[0].id,
      type: 'reservation.confirmed',
      occurred_at: expect.any(String),
      data: { reservation_id: reservation.id, session_id: sessionId, user_id: user, session_seat_ids: seatIds, payment_id: payment },
    });
  });

  it('returns the same result for the same payment and issues no second set of tickets', async () => {
    const { user, reservation } = await heldReservation(2);
    const payment = paymentId('approved');
    const first = await confirm(system.booking.url, user, reservation.id, payment);
    const again = await confirm(system.booking.url, user, reservation.id, payment);
    expect(again.status).toBe(200);
    expect(again.body.tickets).toEqual(first.body.tickets);
    // The first answer is built from the rows the confirm wrote; the replay reads them back: the same body.
    expect(again.body).toEqual(first.body);
    expect(await system.booking.db('tickets').where({ reservation_id: reservation.id }).count<{ count: number }[]>({ count: '*' })).toEqual([{ count: 2 }]);

    const other = await confirm(system.booking.url, user, reservation.id, paymentId('approved'));
    expect([other.status, other.body.error.code]).toEqual([409, 'ALREADY_CONFIRMED']);
  });

  it('issues one set of tickets when the same confirm is sent many times at once', async () => {
    const { user, reservation } = await heldReservation(3);
    const payment = paymentId('approved');
    const responses = await Promise.all(Array.from({ length: 8 }, () => confirm(system.booking.url, user, reservation.id, payment)));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(200));
    const ticketSets = new Set(responses.map((r) => r.body.tickets.map((t: any) => t.id).join()));
    expect(ticketSets.size).toBe(1);
    expect(await system.booking.db('tickets').where({ reservation_id: reservation.id }).count<{ count: number }[]>({ count: '*' })).toEqual([{ count: 3 }]);
    expect((await outboxRows(system.booking.db, reservation.id)).filter((r: any) => r.routing_key === 'reservation.confirmed')).toHaveLength(1);
  });

  it('answers 402 for a declined payment and leaves the hold active; a good payment then confirms', async () => {
    const { user, seatIds, reservation } = await heldReservation(1);
    const declined = await confirm(system.booking.url, user, reservation.id, paymentId('declined'));
    expect([declined.status, declined.body.error.code]).toEqual([402, 'PAYMENT_DECLINED']);
    const fetched = await request(system.booking.url, 'GET', `/api/v1/reservations/${reservation.id}`, asUser(user));
    expect(fetched.body).toMatchObject({ status: 'active', tickets: [] });
    expect(fetched.body.time_remaining_seconds).toBeGreaterThan(0);
    expect((await seatStates(system.eventDb, seatIds)).get(seatIds[0])).toMatchObject({ status: 'reserved', reservation_id: reservation.id });
    expect(await outboxRows(system.booking.db, reservation.id)).toEqual([]);

    expect((await confirm(system.booking.url, user, reservation.id, paymentId('approved'))).status).toBe(200);
  });

  it('answers 410 "Reservation expired" once the hold has expired, issuing nothing', async () => {
    const { user, reservation } = await heldReservation(1);
    await expireNow(system.booking.db, reservation.id);
    const response = await confirm(system.booking.url, user, reservation.id);
    expect(response.status).toBe(410);
    expect(response.body.error).toMatchObject({ code: 'RESERVATION_EXPIRED', message: 'Reservation expired' });
    expect(await system.booking.db('tickets').where({ reservation_id: reservation.id })).toEqual([]);
    expect(await outboxRows(system.booking.db, reservation.id)).toEqual([]);
  });

  it('validates the payment id (none at all is fine: the provider makes one)', async () => {
    const { user, reservation } = await heldReservation(1);
    for (const body of [{ payment_id: '' }, { payment_id: null }, { payment_id: 'x'.repeat(101) }, { payment_id: 'a', extra: 1 }]) {
      const response = await request(system.booking.url, 'POST', `/api/v1/reservations/${reservation.id}/confirm`, { ...asUser(user), body });
      expect(response.status).toBe(422);
    }
  });

  it('refuses to cancel a confirmed reservation', async () => {
    const { user, reservation } = await heldReservation(1);
    await confirm(system.booking.url, user, reservation.id);
    const response = await request(system.booking.url, 'DELETE', `/api/v1/reservations/${reservation.id}`, asUser(user));
    expect([response.status, response.body.error.code]).toEqual([409, 'RESERVATION_CONFIRMED']);
  });
});

describe('tickets', () => {
  it('are listed for their owner, newest first, with QR codes that scan to a verifiable ticket code', async () => {
    const { user, reservation } = await heldReservation(1);
    const confirmed = await confirm(system.booking.url, user, reservation.id);
    const moreSession = await createTestSession(system.event.url, { seats: 1 });
    const later = await reserve(system.booking.url, user, moreSession.sessionId, moreSession.seatIds);
    const laterConfirmed = await confirm(system.booking.url, user, later.body.id);

    const list = await request(system.booking.url, 'GET', `/api/v1/tickets/user/${user}`, asUser(user));
    expect(list.status).toBe(200);
    expect(list.body.map((t: any) => t.id)).toEqual([laterConfirmed.body.tickets[0].id, confirmed.body.tickets[0].id]);

    const ticket = confirmed.body.tickets[0];
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/${ticket.id}`, asUser(user))).body).toEqual(ticket);

    const qr = await fetch(`${system.booking.url}/api/v1/tickets/${ticket.id}/qr`, { headers: { 'x-user-id': user } });
    expect(qr.status).toBe(200);
    expect(qr.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await qr.arrayBuffer());
    expect(`data:image/png;base64,${png.toString('base64')}`).toBe(ticket.qr_code);
    const image = PNG.sync.read(png);
    const content = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? '';
    // The QR holds exactly the ticket's `code`: a signed code that verifies with nothing but the published keys.
    expect(content).toBe(ticket.code);
    const jwks = (await request(system.booking.url, 'GET', '/api/v1/ticket-keys')).body;
    expect(await verifyTicketCodeWithJwks(content, jwks)).toMatchObject({ ticketId: ticket.id, sessionId: ticket.session_id, row: '1' });
  });

  it('are out of reach of other users: 403 for their list, 404 for a ticket, its QR code and its refund', async () => {
    const { user, reservation } = await heldReservation(1);
    const ticket = (await confirm(system.booking.url, user, reservation.id)).body.tickets[0];
    const intruder = newUser();
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/user/${user}`, asUser(intruder))).status).toBe(403);
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/${ticket.id}`, asUser(intruder))).status).toBe(404);
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/${ticket.id}/qr`, asUser(intruder))).status).toBe(404);
    expect((await request(system.booking.url, 'POST', `/api/v1/tickets/${ticket.id}/refund`, asUser(intruder))).status).toBe(404);
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/user/${intruder}`, asUser(intruder))).body).toEqual([]);
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/${ticket.id}`)).status).toBe(401);
  });
});

describe('refunding a ticket', () => {
  it('refunds it with ticket.refunded in the outbox, answers the same when repeated, and refunds the reservation with its last ticket', async () => {
    const { user, sessionId, seatIds, reservation } = await heldReservation(2);
    const [first, second] = (await confirm(system.booking.url, user, reservation.id)).body.tickets;

    const refunded = await request(system.booking.url, 'POST', `/api/v1/tickets/${first.id}/refund`, asUser(user));
    expect(refunded.status).toBe(200);
    expect(refunded.body).toMatchObject({ id: first.id, status: 'refunded', is_used: false });
    const again = await request(system.booking.url, 'POST', `/api/v1/tickets/${first.id}/refund`, asUser(user));
    expect([again.status, again.body.status]).toEqual([200, 'refunded']);

    let state = await request(system.booking.url, 'GET', `/api/v1/reservations/${reservation.id}`, asUser(user));
    expect(state.body.status).toBe('confirmed');
    await request(system.booking.url, 'POST', `/api/v1/tickets/${second.id}/refund`, asUser(user));
    state = await request(system.booking.url, 'GET', `/api/v1/reservations/${reservation.id}`, asUser(user));
    expect(state.body.status).toBe('refunded');

    const refunds = (await outboxRows(system.booking.db, reservation.id)).filter((r: any) => r.routing_key === 'ticket.refunded');
    expect(refunds.map((r: any) => r.payload.data)).toEqual([
      { reservation_id: reservation.id, session_id: sessionId, user_id: user, session_seat_ids: [seatIds[0]], seat_ids: [seatIds[0]], ticket_id: first.id },
      { reservation_id: reservation.id, session_id: sessionId, user_id: user, session_seat_ids: [seatIds[1]], seat_ids: [seatIds[1]], ticket_id: second.id },
    ]);
  });

  it('refuses a used ticket (409)', async () => {
    const { user, reservation } = await heldReservation(1);
    const [ticket] = (await confirm(system.booking.url, user, reservation.id)).body.tickets;
    await system.booking.db('tickets').where({ id: ticket.id }).update({ status: 'used', used_at: new Date() });
    const response = await request(system.booking.url, 'POST', `/api/v1/tickets/${ticket.id}/refund`, asUser(user));
    expect([response.status, response.body.error.code]).toEqual([409, 'TICKET_USED']);
    expect((await request(system.booking.url, 'GET', `/api/v1/tickets/${ticket.id}`, asUser(user))).body.is_used).toBe(true);
  });
});
