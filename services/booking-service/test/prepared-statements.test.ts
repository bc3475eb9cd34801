import { randomUUID } from 'node:crypto';
import { createDatabase, createLogger, createTicketingEvent, type Knex, type TicketingEvent } from '@ticketing/platform';
import { createBookingStore } from '../src/data-access/booking-store';
import type { BookingStore } from '../src/domain/store';
import type { NewTicket } from '../src/domain/store';
import { expireReservations } from '../src/domain/expiry';
import { insertHeldMany } from '../src/data-access/reservation-repository';
import { privateBookingDatabase } from './support/harness';
import { newReservation } from './support/reservation-rows';

// The hot paths' statements (placing a hold, confirming, the outbox relay, the expiry sweep) run as named
// prepared statements; these tests pin down what each one does, on a database of their own.
let database: Awaited<ReturnType<typeof privateBookingDatabase>>;
let db: Knex;
let store: BookingStore;

beforeAll(async () => {
  database = await privateBookingDatabase('prepared');
  db = createDatabase({ url: database.url, poolMax: 3 });
  store = createBookingStore(db);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

afterEach(async () => {
  await db.raw('TRUNCATE outbox, payment_refunds, payments, tickets, reservation_items, reservations, pending_holds');
});

const newOneSeatReservation = (expiresInMs?: number) =>
  newReservation(
    [{ row_number: 'B', seat_number: '7', price: '80.00', discount_amount: '0.00', final_price: '80.00', seat_type: null, seat_id: null }],
    { expiresInMs },
  );

async function placed(expiresInMs?: number) {
  const { reservation, items } = newOneSeatReservation(expiresInMs);
  const hold = { reservationId: reservation.id, userId: reservation.user_id, sessionId: reservation.session_id };
  expect(await store.pendingHolds.record({ ...hold, sessionSeatIds: items.map((item) => item.session_seat_id) })).toBe(true);
  expect(await store.reservations.insertHeld(reservation, items)).toBe(true);
  return { reservation, items };
}

/** An event that occurred `index` seconds after a fixed past instant (the outbox orders by that time). */
const expiredEvent = (index: number): TicketingEvent => ({
  ...createTicketingEvent('reservation.expired', {
    reservation_id: randomUUID(),
    session_id: randomUUID(),
    user_id: randomUUID(),
    session_seat_ids: [randomUUID()],
  }),
  occurred_at: new Date(Date.UTC(2030, 0, 1, 12, 0, index)).toISOString(),
});

describe('the booking hot paths on named prepared statements', () => {
  it('place, confirm, relay and sweep leave their statements prepared on the connection they used', async () => {
    const single = createDatabase({ url: database.url, poolMax: 1 });
    const onOne = createBookingStore(single);
    try {
      const { reservation, items } = newOneSeatReservation();
      await onOne.pendingHolds.recordWithinCap(
        {
          reservationId: reservation.id,
          userId: reservation.user_id,
          sessionId: reservation.session_id,
          sessionSeatIds: [items[0].session_seat_id],
        },
        10,
      );
      await onOne.reservations.insertHeld(reservation, items);
      await onOne.pendingHolds.clear(reservation.id);
      await onOne.reservations.findById(reservation.id);
      await onOne.reservations.itemsOf([reservation.id]);
      const payment = { paymentId: randomUUID(), paymentRowId: randomUUID(), authorizationId: 'auth_x' };
      await onOne.payments.start({ id: payment.paymentRowId, reservationId: reservation.id, paymentId: payment.paymentId, amount: '1.00' });
      await onOne.reservations.confirmWithTickets(reservation.id, payment, [], expiredEvent(0));
      await onOne.payments.markCaptured(payment.paymentRowId);
      await onOne.transaction(async (tx) => {
        const rows = await tx.outbox.claimBatch(10);
        await tx.outbox.markPublished(rows.map((row) => row.id));
        await tx.outbox.markFailed([{ id: randomUUID(), error: 'x' }]);
        await tx.reservations.expireBatch(10);
        await tx.outbox.addMany([expiredEvent(1)]);
        await tx.pendingHolds.abandonStale(60, 10);
      });
      const { rows } = await single.raw("SELECT name FROM pg_prepared_statements WHERE name LIKE 'booking.%' ORDER BY name");
      expect(rows.map((row: { name: string }) => row.name)).toEqual([
        'booking.outbox.add_many',
        'booking.outbox.claim_batch',
        'booking.outbox.mark_failed',
        'booking.outbox.mark_published',
        'booking.payments.mark_captured',
        'booking.payments.start',
        'booking.pending_holds.abandon_stale',
        'booking.pending_holds.clear',
        'booking.reservation_items.of_reservations',
        'booking.reservations.confirm_with_tickets',
        'booking.reservations.expire_batch',
        'booking.reservations.find_by_id',
        'booking.reservations.insert_held',
      ]);
    } finally {
      await single.destroy();
    }
  });

  it('when many reservations are written in one statement, then only those whose pending hold is still live are written', async () => {
    const held = [newOneSeatReservation(), newOneSeatReservation(), newOneSeatReservation()];
    for (const { reservation, items } of held) {
      const hold = { reservationId: reservation.id, userId: reservation.user_id, sessionId: reservation.session_id };
      expect(await store.pendingHolds.record({ ...hold, sessionSeatIds: items.map((item) => item.session_seat_id) })).toBe(true);
    }
    // The sweep gave up on the second one before it could be written.
    await db('pending_holds').where({ reservation_id: held[1].reservation.id }).update({ abandoned_at: db.fn.now() });

    const written = await insertHeldMany(db, held);

    expect([...written].sort()).toEqual([held[0].reservation.id, held[2].reservation.id].sort());
    const rows = await db('reservations').whereIn('id', held.map(({ reservation }) => reservation.id)).select('id');
    expect(rows.map((row: { id: string }) => row.id).sort()).toEqual([...written].sort());
    const items = await store.reservations.itemsOf(held.map(({ reservation }) => reservation.id));
    expect(items.map((item) => item.reservation_id).sort()).toEqual([...written].sort());
    expect(items[0]).toMatchObject({ row_number: 'B', seat_number: '7', final_price: '80.00' });
    // Cleared: only the abandoned journal row is left (for the sweep to release).
    expect((await db('pending_holds').select('reservation_id')).map((row: { reservation_id: string }) => row.reservation_id)).toEqual([held[1].reservation.id]);
  });

  it('confirm writes the confirmation, the tickets and the outbox row, only while the hold is live', async () => {
    const { reservation, items } = await placed();
    const paymentId = randomUUID();
    const ticket: NewTicket = {
      id: randomUUID(),
      reservation_id: reservation.id,
      reservation_item_id: items[0].id,
      user_id: reservation.user_id,
      session_id: reservation.session_id,
      session_seat_id: items[0].session_seat_id,
      row_number: 'B',
      seat_number: '7',
      price: '80.00',
      status: 'active',
      ticket_code: `code-${randomUUID()}`,
      qr_png: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]),
      created_at: new Date(),
    };
    const event = createTicketingEvent('reservation.confirmed', {
      reservation_id: reservation.id,
      session_id: reservation.session_id,
      user_id: reservation.user_id,
      session_seat_ids: [items[0].session_seat_id],
      payment_id: paymentId,
      total_amount: 80,
      ticket_ids: [ticket.id],
    });

    const payment = { paymentId, paymentRowId: randomUUID(), authorizationId: 'auth_1' };
    await store.payments.start({ id: payment.paymentRowId, reservationId: reservation.id, paymentId, amount: '80.00' });
    const confirmed = await store.reservations.confirmWithTickets(reservation.id, payment, [ticket], event);
    expect(confirmed).toMatchObject({ id: reservation.id, status: 'confirmed', payment_id: paymentId, total_amount: '80.00' });
    expect(confirmed?.confirmed_at).toBeInstanceOf(Date);
    expect(confirmed?.payment_ref).toBe(payment.paymentRowId);
    expect(await store.payments.findById(payment.paymentRowId)).toMatchObject({ state: 'authorized', authorization_id: 'auth_1' });
    const [stored] = await db('tickets').where({ reservation_id: reservation.id });
    expect(stored).toMatchObject({ id: ticket.id, ticket_code: ticket.ticket_code, price: '80.00', row_number: 'B' });
    expect(Buffer.compare(stored.qr_png, ticket.qr_png)).toBe(0);
    expect(await db('outbox').where({ id: event.id }).select('routing_key', 'payload')).toEqual([
      { routing_key: 'reservation.confirmed', payload: JSON.parse(JSON.stringify(event)) },
    ]);

    // A second confirm finds no live hold: nothing more is written.
    const again = { paymentId, paymentRowId: randomUUID(), authorizationId: 'auth_2' };
    await store.payments.start({ id: again.paymentRowId, reservationId: reservation.id, paymentId, amount: '80.00' });
    expect(await store.reservations.confirmWithTickets(reservation.id, again, [{ ...ticket, id: randomUUID() }], expiredEvent(0))).toBeUndefined();
    expect(await db('tickets').where({ reservation_id: reservation.id })).toHaveLength(1);
    expect(await db('outbox').count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('the outbox: rows added in one statement come back whole, oldest first; claims skip locked rows; marks hit only their rows', async () => {
    const events: TicketingEvent[] = [expiredEvent(3), expiredEvent(1), expiredEvent(2)];
    await store.outbox.addMany(events);
    const oldestFirst = [events[1], events[2], events[0]];

    await store.transaction(async (tx) => {
      const claimed = await tx.outbox.claimBatch(2);
      expect(claimed.map((row) => row.id)).toEqual(oldestFirst.slice(0, 2).map((event) => event.id));
      expect(claimed[0]).toMatchObject({
        routing_key: 'reservation.expired',
        payload: JSON.parse(JSON.stringify(oldestFirst[0])),
        headers: {},
        published_at: null,
        attempts: 0,
        last_error: null,
      });
      expect(claimed[0].created_at.toISOString()).toBe(oldestFirst[0].occurred_at);

      // Another relay's transaction meanwhile gets only the row nobody holds.
      const other = await store.transaction((otherTx) => otherTx.outbox.claimBatch(10));
      expect(other.map((row) => row.id)).toEqual([oldestFirst[2].id]);

      await tx.outbox.markPublished([claimed[0].id]);
      await tx.outbox.markFailed([{ id: claimed[1].id, error: `broker down ${'!'.repeat(3_000)}` }]);
    });

    const rows = await db('outbox').select('id', 'published_at', 'attempts', 'last_error');
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(oldestFirst[0].id)).toMatchObject({ attempts: 0, last_error: null, published_at: expect.any(Date) });
    expect(byId.get(oldestFirst[1].id)).toMatchObject({ attempts: 1, published_at: null });
    expect(byId.get(oldestFirst[1].id)?.last_error).toHaveLength(2_000);
    expect(byId.get(oldestFirst[2].id)).toMatchObject({ attempts: 0, last_error: null, published_at: null });
  });

  it('the sweep: expires due active holds oldest first in batches, never a live or settled one', async () => {
    const late = await placed(-5_000);
    const later = await placed(-1_000);
    const live = await placed(600_000);
    const confirmedLate = await placed(-10_000);
    await db('reservations').where({ id: confirmedLate.reservation.id }).update({ status: 'confirmed' });

    const first = await store.transaction((tx) => tx.reservations.expireBatch(1));
    expect(first.map((row) => row.id)).toEqual([late.reservation.id]);
    expect(first[0]).toMatchObject({ status: 'expired', user_id: late.reservation.user_id });
    const rest = await store.transaction((tx) => tx.reservations.expireBatch(10));
    expect(rest.map((row) => row.id)).toEqual([later.reservation.id]);
    expect(await store.transaction((tx) => tx.reservations.expireBatch(10))).toEqual([]);

    const statuses = await db('reservations').select('id', 'status');
    expect(new Map(statuses.map((row) => [row.id, row.status]))).toEqual(
      new Map([
        [late.reservation.id, 'expired'],
        [later.reservation.id, 'expired'],
        [live.reservation.id, 'active'],
        [confirmedLate.reservation.id, 'confirmed'],
      ]),
    );
    expect(await store.reservations.itemsOf([late.reservation.id, live.reservation.id])).toEqual(
      expect.arrayContaining([...late.items, ...live.items]),
    );
  });

  it('the sweep: abandons stale pending holds only, after which they can no longer be cleared or recorded again', async () => {
    const hold = (reservationId: string) => ({
      reservationId,
      userId: randomUUID(),
      sessionId: randomUUID(),
      sessionSeatIds: [randomUUID(), randomUUID()],
    });
    const stale = hold(randomUUID());
    const fresh = hold(randomUUID());
    await store.pendingHolds.record(stale);
    await store.pendingHolds.record(fresh);
    await db('pending_holds').where({ reservation_id: stale.reservationId }).update({ created_at: db.raw("now() - interval '5 minutes'") });

    const abandoned = await store.transaction((tx) => tx.pendingHolds.abandonStale(60, 10));
    expect(abandoned).toEqual([
      expect.objectContaining({ reservation_id: stale.reservationId, session_seat_ids: stale.sessionSeatIds, abandoned_at: expect.any(Date) }),
    ]);
    expect(await store.transaction((tx) => tx.pendingHolds.abandonStale(60, 10))).toEqual([]);

    expect(await store.pendingHolds.clear(stale.reservationId)).toBe(false);
    expect(await store.pendingHolds.record(stale)).toBe(false);
    expect(await store.pendingHolds.clear(fresh.reservationId)).toBe(true);
    expect(await store.pendingHolds.clear(fresh.reservationId)).toBe(false);
  });

  it('the sweep deletes outbox rows published longer ago than the retention, in batches, and nothing else', async () => {
    const events = Array.from({ length: 5 }, (_, index) => expiredEvent(10 + index));
    await store.transaction((tx) => tx.outbox.addMany(events));
    const [old1, old2, old3, recent, unpublished] = events.map((event) => event.id);
    await db('outbox').whereIn('id', [old1, old2, old3]).update({ published_at: db.raw("now() - interval '8 days'") });
    await db('outbox').where({ id: recent }).update({ published_at: db.raw("now() - interval '1 day'") });
    // An unpublished row is kept whatever its age: it still has to reach RabbitMQ.
    await db('outbox').where({ id: unpublished }).update({ created_at: db.raw("now() - interval '30 days'") });

    const logger = createLogger('retention-test', 'silent');
    const week = 7 * 24 * 3600;
    const kept = await expireReservations({ store, logger }, { batchSize: 10, pendingHoldGraceSeconds: 60, outboxRetentionSeconds: 0 });
    expect(kept.purgedOutboxRows).toBe(0);
    const swept = await expireReservations({ store, logger }, { batchSize: 2, pendingHoldGraceSeconds: 60, outboxRetentionSeconds: week });
    expect(swept.purgedOutboxRows).toBe(3);
    expect((await db('outbox').select('id').orderBy('id')).map((row: { id: string }) => row.id)).toEqual([recent, unpublished].sort());
  });
});
