/**
 * Issue 10 "Charged 50 times for one order", replayed as an attacker (or an unlucky buyer) would, against
 * the real event and booking APIs: money moves once, losers void, refunds go back through the provider and
 * stop at the session start. Counts come from the mock provider's ledger (what a real provider would have
 * charged) and are printed.
 */
import { randomUUID } from 'node:crypto';
import { createBookingStore } from '../../services/booking-service/src/data-access/booking-store';
import type { MockPaymentProvider } from '../../services/booking-service/src/domain/payment-provider';
import { recoverPayments } from '../../services/booking-service/src/domain/payments';
import type { RunningBookingApi } from '../../services/booking-service/src/entry-points/api';
import { createLogger } from '@ticketing/platform';
import {
  asUser,
  createTestSession,
  expireNow,
  newUser,
  request,
  reserve,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from '../../services/booking-service/test/support/harness';

const system = useBookingSystem({ privateDatabase: 'money' });
let booking: RunningBookingApi;

beforeAll(async () => {
  booking = await startBookingSide(system.event.url, { DATABASE_URL: system.privateDatabase.url, PAYMENT_SUCCESS_RATE: 1 });
});
afterAll(() => stopBookingSide(booking));

const confirmWith = (user: string, reservationId: string, body?: unknown) =>
  request(booking.url, 'POST', `/api/v1/reservations/${reservationId}/confirm`, { ...asUser(user), body });

async function heldReservation(seats: number, price = 100) {
  const { sessionId, seatIds } = await createTestSession(system.event.url, { seats, price });
  const user = newUser();
  const created = await reserve(booking.url, user, sessionId, seatIds);
  expect(created.status).toBe(201);
  return { user, sessionId, seatIds, reservation: created.body as { id: string; total_amount: number } };
}

const paymentsOf = (reservationId: string) =>
  booking.db('payments').where({ reservation_id: reservationId }).select('state', 'amount', 'captured_amount', 'refunded_amount');

function countBy<T>(values: T[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

/** Runs `after` once right after each approved authorization, before the confirm statement (a failure-injection seam). */
function afterEachAuthorization(provider: MockPaymentProvider, after: (reservationId: string) => Promise<void>) {
  const original = provider.authorize;
  provider.authorize = async (request) => {
    const result = await original(request);
    if (result.approved) await after(request.reservationId);
    return result;
  };
  return () => {
    provider.authorize = original;
  };
}

describe('money moves once', () => {
  test('when 50 confirms of one reservation race with 50 payment ids, then exactly one capture of the total and 49 voids', async () => {
    const { user, reservation } = await heldReservation(5, 100);
    // The finding's worst case: all 50 are authorized (charged, before this fix) before any reaches the confirm.
    let authorized = 0;
    const restore = afterEachAuthorization(booking.payments, async () => {
      authorized += 1;
      const deadline = Date.now() + 10_000;
      while (authorized < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    });
    let responses;
    try {
      responses = await Promise.all(
        Array.from({ length: 50 }, () => confirmWith(user, reservation.id, { payment_id: `pm_${randomUUID()}` })),
      );
    } finally {
      restore();
    }
    const statuses = countBy(responses.map((response) => response.status));
    const ledger = booking.payments.totals(reservation.id);
    console.log(
      `50 parallel confirms: tried 50, answers ${JSON.stringify(statuses)}; ledger ${JSON.stringify(ledger)}; ` +
        `charged ${(ledger.capturedCents / 100).toFixed(2)} for an order of ${reservation.total_amount.toFixed(2)}; lost: 0`,
    );
    expect(statuses).toEqual({ 200: 1, 409: 49 });
    expect(ledger).toMatchObject({ authorizations: 50, captures: 1, capturedCents: 50_000, voids: 49, openAuthorizations: 0 });
    expect(countBy((await paymentsOf(reservation.id)).map((row) => row.state))).toEqual({ captured: 1, voided: 49 });
    const metrics = (await request<string>(booking.url, 'GET', '/metrics')).body;
    const voids = Number(/booking_payment_operations_total\{[^}]*operation="void",result="ok"[^}]*\} (\d+)/.exec(metrics)?.[1]);
    expect(voids).toBeGreaterThanOrEqual(49);
  });

  test('when 50 confirms race without any help, then the ones authorized before losing void and one capture is made', async () => {
    const { user, reservation } = await heldReservation(2, 100);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => confirmWith(user, reservation.id, { payment_id: `pm_${randomUUID()}` })),
    );
    const ledger = booking.payments.totals(reservation.id);
    console.log(`50 free-running confirms: answers ${JSON.stringify(countBy(responses.map((r) => r.status)))}; ledger ${JSON.stringify(ledger)}`);
    expect(countBy(responses.map((response) => response.status))).toEqual({ 200: 1, 409: 49 });
    expect(ledger).toMatchObject({ captures: 1, capturedCents: 20_000, voids: ledger.authorizations - 1, openAuthorizations: 0 });
  });

  test('when 20 confirms with the same payment id race, then all answer the one result and one capture is made', async () => {
    const { user, reservation } = await heldReservation(2, 40);
    const payment = `pm_${randomUUID()}`;
    const responses = await Promise.all(Array.from({ length: 20 }, () => confirmWith(user, reservation.id, { payment_id: payment })));
    expect(countBy(responses.map((response) => response.status))).toEqual({ 200: 20 });
    expect(new Set(responses.map((response) => JSON.stringify(response.body.tickets.map((t: { id: string }) => t.id)))).size).toBe(1);
    expect(booking.payments.totals(reservation.id)).toMatchObject({ captures: 1, capturedCents: 8_000, openAuthorizations: 0 });
  });

  test('when the hold expires between the authorization and the confirm, then the confirm answers 410 and voids its authorization', async () => {
    const { user, reservation } = await heldReservation(1);
    const restore = afterEachAuthorization(booking.payments, (id) => expireNow(booking.db, id));
    try {
      const response = await confirmWith(user, reservation.id, { payment_id: `pm_${randomUUID()}` });
      expect([response.status, response.body.error?.code]).toEqual([410, 'RESERVATION_EXPIRED']);
    } finally {
      restore();
    }
    expect(booking.payments.totals(reservation.id)).toMatchObject({ authorizations: 1, captures: 0, voids: 1, openAuthorizations: 0 });
    expect(await paymentsOf(reservation.id)).toEqual([expect.objectContaining({ state: 'voided' })]);
  });

  test('when 20 confirms race the expiry, then whoever lost voids: captures equal confirmations and no authorization stays open', async () => {
    const { user, reservation } = await heldReservation(1);
    let authorized = 0;
    // The expiry lands after the fifth authorization: some attempts were charged before it, none may keep the money.
    const restore = afterEachAuthorization(booking.payments, async (id) => {
      authorized += 1;
      if (authorized === 5) await expireNow(booking.db, id);
    });
    let responses;
    try {
      responses = await Promise.all(Array.from({ length: 20 }, () => confirmWith(user, reservation.id, { payment_id: `pm_${randomUUID()}` })));
    } finally {
      restore();
    }
    const statuses = countBy(responses.map((response) => response.status));
    const ledger = booking.payments.totals(reservation.id);
    console.log(`20 confirms racing the expiry: answers ${JSON.stringify(statuses)}; ledger ${JSON.stringify(ledger)}`);
    expect(ledger.captures).toBe(statuses[200] ? 1 : 0);
    expect(ledger.voids).toBe(ledger.authorizations - ledger.captures);
    expect(ledger.openAuthorizations).toBe(0);
    expect((statuses[200] ?? 0) + (statuses[409] ?? 0) + (statuses[410] ?? 0)).toBe(20);
  });

  test('when a confirm is declined, then nothing is authorized and the hold stays active', async () => {
    const declining = await startBookingSide(system.event.url, { DATABASE_URL: system.privateDatabase.url, PAYMENT_SUCCESS_RATE: 0 });
    try {
      const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
      const user = newUser();
      const created = await reserve(declining.url, user, sessionId, seatIds);
      const response = await request(declining.url, 'POST', `/api/v1/reservations/${created.body.id}/confirm`, {
        ...asUser(user),
        body: { payment_id: 'pm_declined' },
      });
      expect(response.status).toBe(402);
      expect(declining.payments.totals(created.body.id)).toMatchObject({ authorizations: 0, declines: 1, captures: 0 });
      expect((await request(declining.url, 'GET', `/api/v1/reservations/${created.body.id}`, asUser(user))).body.status).toBe('active');
    } finally {
      await stopBookingSide(declining);
    }
  });
});

describe('confirm without a body (issue 11)', () => {
  test('when the original client confirms with no body, then it is confirmed with a provider-made payment id and replays the same', async () => {
    const { user, reservation } = await heldReservation(2);
    const first = await request(booking.url, 'POST', `/api/v1/reservations/${reservation.id}/confirm`, { headers: { 'x-user-id': user } });
    expect([first.status, first.body.status, first.body.tickets.length]).toEqual([200, 'confirmed', 2]);
    const stored = await booking.db('reservations').where({ id: reservation.id }).first();
    expect(stored.payment_id).toMatch(/^pay_/);
    const again = await confirmWith(user, reservation.id, {});
    expect(again.status).toBe(200);
    expect(again.body.tickets).toEqual(first.body.tickets);
    expect(booking.payments.totals(reservation.id)).toMatchObject({ authorizations: 1, captures: 1, capturedCents: 20_000 });
  });

  test('when the OpenAPI document is read, then the confirm body is optional and still names payment_id', async () => {
    const document = await request(booking.url, 'GET', '/openapi.json');
    const body = document.body.paths['/api/v1/reservations/{id}/confirm'].post.requestBody;
    expect(body.required).toBe(false);
    expect(JSON.stringify(body.content['application/json'].schema)).toContain('payment_id');
  });

  test('when the body is {}, then it confirms too; {payment_id} keeps its contract (another payment on a confirmed reservation is 409)', async () => {
    const { user, reservation } = await heldReservation(1);
    expect((await confirmWith(user, reservation.id, {})).status).toBe(200);
    const other = await confirmWith(user, reservation.id, { payment_id: 'pm_other' });
    expect([other.status, other.body.error.code]).toEqual([409, 'ALREADY_CONFIRMED']);
  });
});

describe('refunds', () => {
  async function confirmedTickets(seats: number, price = 100) {
    const held = await heldReservation(seats, price);
    const confirmed = await confirmWith(held.user, held.reservation.id, { payment_id: `pm_${randomUUID()}` });
    expect(confirmed.status).toBe(200);
    return { ...held, tickets: confirmed.body.tickets as Array<{ id: string; price: number }> };
  }
  const refund = (user: string, ticketId: string) => request(booking.url, 'POST', `/api/v1/tickets/${ticketId}/refund`, asUser(user));

  test('when a ticket is refunded, then its price goes back through the provider, once, and the last one closes the payment', async () => {
    const { user, reservation, tickets } = await confirmedTickets(2, 30);
    expect((await refund(user, tickets[0].id)).status).toBe(200);
    expect((await refund(user, tickets[0].id)).status).toBe(200);
    expect(booking.payments.totals(reservation.id)).toMatchObject({ refunds: 1, refundedCents: 3_000 });
    expect(await paymentsOf(reservation.id)).toEqual([expect.objectContaining({ state: 'captured', refunded_amount: '30.00' })]);

    expect((await refund(user, tickets[1].id)).status).toBe(200);
    const ledger = booking.payments.totals(reservation.id);
    console.log(`refunds: 2 tickets refunded (one twice), ledger ${JSON.stringify(ledger)}`);
    expect(ledger).toMatchObject({ captures: 1, capturedCents: 6_000, refunds: 2, refundedCents: 6_000 });
    expect(await paymentsOf(reservation.id)).toEqual([expect.objectContaining({ state: 'refunded', refunded_amount: '60.00' })]);
  });

  test('when the session has started, then a refund is refused with 409 REFUND_WINDOW_CLOSED and no money moves', async () => {
    const { user, reservation, tickets } = await confirmedTickets(1);
    const stored = await booking.db('reservations').where({ id: reservation.id }).first();
    expect(stored.session_starts_at).toBeInstanceOf(Date);
    // As if the session had started a minute ago.
    await booking.db('reservations').where({ id: reservation.id }).update({ session_starts_at: new Date(Date.now() - 60_000) });
    const response = await refund(user, tickets[0].id);
    expect([response.status, response.body.error.code]).toEqual([409, 'REFUND_WINDOW_CLOSED']);
    expect(response.body.error.details).toMatchObject({ refund_cutoff_minutes: 0 });
    expect(booking.payments.totals(reservation.id)).toMatchObject({ refunds: 0 });
    expect((await booking.db('tickets').where({ id: tickets[0].id }).first()).status).toBe('active');
  });

  test('when the refund cutoff is 2 hours and the session starts in 1, then refunds are already closed', async () => {
    const strict = await startBookingSide(system.event.url, { DATABASE_URL: system.privateDatabase.url, PAYMENT_SUCCESS_RATE: 1, REFUND_CUTOFF_MINUTES: 120 });
    try {
      const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1, startsInHours: 1 });
      const user = newUser();
      const created = await reserve(strict.url, user, sessionId, seatIds);
      const confirmed = await request(strict.url, 'POST', `/api/v1/reservations/${created.body.id}/confirm`, { ...asUser(user), body: {} });
      const response = await request(strict.url, 'POST', `/api/v1/tickets/${confirmed.body.tickets[0].id}/refund`, asUser(user));
      expect([response.status, response.body.error.code]).toEqual([409, 'REFUND_WINDOW_CLOSED']);
    } finally {
      await stopBookingSide(strict);
    }
  });
});

describe('recovery after a crash', () => {
  const logger = createLogger('money-test', 'silent');
  const recover = () => recoverPayments({ store: createBookingStore(booking.db), payments: booking.payments, logger }, { graceSeconds: 60, batchSize: 100 });
  const age = (reservationId: string) =>
    booking.db('payments').where({ reservation_id: reservationId }).update({ updated_at: booking.db.raw(`now() - interval '1 hour'`) });

  test('when the winner died before its capture, then the replay or the sweep captures it, never twice', async () => {
    const { user, reservation } = await heldReservation(1, 70);
    const capture = booking.payments.capture;
    booking.payments.capture = async () => {
      throw new Error('provider unreachable');
    };
    const payment = `pm_${randomUUID()}`;
    try {
      expect((await confirmWith(user, reservation.id, { payment_id: payment })).status).toBe(200);
    } finally {
      booking.payments.capture = capture;
    }
    expect(await paymentsOf(reservation.id)).toEqual([expect.objectContaining({ state: 'authorized' })]);
    await age(reservation.id);
    expect((await recover()).captured).toBeGreaterThanOrEqual(1);
    expect((await confirmWith(user, reservation.id, { payment_id: payment })).status).toBe(200);
    await age(reservation.id);
    await recover();
    expect(booking.payments.totals(reservation.id)).toMatchObject({ captures: 1, capturedCents: 7_000, voids: 0, openAuthorizations: 0 });
    expect(await paymentsOf(reservation.id)).toEqual([expect.objectContaining({ state: 'captured', captured_amount: '70.00' })]);
  });

  test('when an attempt died around its authorization, then the sweep re-asks with the same key and voids it', async () => {
    const { reservation } = await heldReservation(1, 50);
    const store = createBookingStore(booking.db);
    const paymentRowId = randomUUID();
    await store.payments.start({ id: paymentRowId, reservationId: reservation.id, paymentId: 'pm_crashed', amount: '50.00' });
    // The provider authorized it, but the process died before recording the answer.
    await booking.payments.authorize({ idempotencyKey: `authorize:${paymentRowId}`, paymentId: 'pm_crashed', reservationId: reservation.id, amountCents: 5_000 });
    await age(reservation.id);
    const result = await recover();
    expect(result.voided).toBeGreaterThanOrEqual(1);
    expect(booking.payments.totals(reservation.id)).toMatchObject({ authorizations: 1, voids: 1, captures: 0, openAuthorizations: 0 });
    expect(await paymentsOf(reservation.id)).toEqual([expect.objectContaining({ state: 'voided' })]);
  });
});
