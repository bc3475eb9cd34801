import { randomUUID } from 'node:crypto';
import { createLogger, createTicketingEvent, type Knex, type TicketingEvent } from '@ticketing/platform';
import { seatInventoryRepository } from '../src/data-access/seat-inventory-repository';
import { placeHold } from '../src/domain/seat-inventory';
import { applyBookingEvent, applyBookingEvents } from '../src/domain/booking-events';
import { purgeOldMessageIds } from '../src/domain/message-retention';
import { silentLogLevel } from '../../../test/support/infra';
import { createSessionFixture, inMinutes, openTestDatabase } from './support/fixtures';

const logger = createLogger('consumer-round-trips-test', silentLogLevel);
let db: Knex;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db?.destroy();
});

async function statementsDuring<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = [];
  const onQuery = (query: { sql: string }) => statements.push(query.sql.trim().split(/\s+/)[0].toUpperCase());
  db.on('query', onQuery);
  try {
    return { result: await work(), statements };
  } finally {
    db.removeListener('query', onQuery);
  }
}

test('a booking event records its id and locks its seats in one statement; a duplicate changes nothing', async () => {
  const fixture = await createSessionFixture(db);
  const store = seatInventoryRepository(db);
  const reservationId = randomUUID();
  const seatIds = fixture.seatIds.slice(0, 2);
  await placeHold(store, { sessionId: fixture.sessionId, reservationId, seatIds, reservedUntil: inMinutes(10) });
  const cancelled = createTicketingEvent('reservation.cancelled', {
    reservation_id: reservationId,
    session_id: fixture.sessionId,
    user_id: randomUUID(),
    session_seat_ids: seatIds,
  });

  const first = await statementsDuring(() => applyBookingEvent(store, cancelled, logger));
  expect(first.result).toBe('applied');
  // BEGIN, record + lock, write the changes, COMMIT (was BEGIN, record, lock, free, COMMIT).
  expect(first.statements).toEqual(['BEGIN;', 'WITH', 'WITH', 'COMMIT;']);
  const rows = await db('session_seats').select('status', 'reservation_id').whereIn('id', seatIds);
  expect(rows).toEqual([
    { status: 'available', reservation_id: null },
    { status: 'available', reservation_id: null },
  ]);
  expect(await db('processed_messages').where({ message_id: cancelled.id }).first()).toBeDefined();

  await placeHold(store, { sessionId: fixture.sessionId, reservationId: randomUUID(), seatIds, reservedUntil: inMinutes(10) });
  const again = await statementsDuring(() => applyBookingEvent(store, cancelled, logger));
  expect(again.result).toBe('duplicate');
  expect(again.statements).toEqual(['BEGIN;', 'WITH', 'COMMIT;']);
  expect(await db('session_seats').where({ status: 'reserved' }).whereIn('id', seatIds).count('* as n')).toEqual([{ n: 2 }]);
});

test('unknown seats are ignored and the known ones still change', async () => {
  const fixture = await createSessionFixture(db);
  const store = seatInventoryRepository(db);
  const reservationId = randomUUID();
  const seat = fixture.seatIds[0];
  await placeHold(store, { sessionId: fixture.sessionId, reservationId, seatIds: [seat], reservedUntil: inMinutes(10) });
  const confirmed = createTicketingEvent('reservation.confirmed', {
    reservation_id: reservationId,
    session_id: fixture.sessionId,
    user_id: randomUUID(),
    session_seat_ids: [seat, randomUUID()],
  });
  expect(await applyBookingEvent(store, confirmed, logger)).toBe('applied');
  expect((await db('session_seats').where({ id: seat }).first()).status).toBe('sold');
});

type SeatRow = { id: string; status: string; reservation_id: string | null };
async function seatRows(db: Knex, ids: string[]): Promise<Record<string, Omit<SeatRow, 'id'>>> {
  const rows: SeatRow[] = await db('session_seats').select('id', 'status', 'reservation_id').whereIn('id', ids);
  return Object.fromEntries(rows.map(({ id, ...state }) => [id, state]));
}

test('a batch is one transaction of fixed size: record + lock, refunds read, one write', async () => {
  const fixture = await createSessionFixture(db, { rows: 2, seatsPerRow: 10 });
  const store = seatInventoryRepository(db);
  const events: TicketingEvent[] = [];
  for (let index = 0; index < 10; index++) {
    const reservationId = randomUUID();
    const seats = fixture.seatIds.slice(index * 2, index * 2 + 2);
    await placeHold(store, { sessionId: fixture.sessionId, reservationId, seatIds: seats, reservedUntil: inMinutes(10) });
    events.push(
      createTicketingEvent(index % 2 ? 'reservation.confirmed' : 'reservation.expired', {
        reservation_id: reservationId,
        session_id: fixture.sessionId,
        user_id: randomUUID(),
        session_seat_ids: seats,
      }),
    );
  }
  const { result, statements } = await statementsDuring(() => applyBookingEvents(store, events, logger));
  expect(result).toEqual(Array(10).fill('applied'));
  expect(statements).toEqual(['BEGIN;', 'WITH', 'SELECT', 'WITH', 'COMMIT;']);
  const states = await seatRows(db, fixture.seatIds);
  events.forEach((event, index) => {
    for (const seat of event.data.session_seat_ids) {
      expect(states[seat]).toEqual(
        index % 2 ? { status: 'sold', reservation_id: event.data.reservation_id } : { status: 'available', reservation_id: null },
      );
    }
  });
});

test('within one batch, events apply in delivery order: confirm then refund frees, refund then confirm never sells', async () => {
  const fixture = await createSessionFixture(db);
  const store = seatInventoryRepository(db);
  const [first, second] = [randomUUID(), randomUUID()];
  const [seatA, seatB] = fixture.seatIds;
  await placeHold(store, { sessionId: fixture.sessionId, reservationId: first, seatIds: [seatA], reservedUntil: inMinutes(10) });
  await placeHold(store, { sessionId: fixture.sessionId, reservationId: second, seatIds: [seatB], reservedUntil: inMinutes(10) });
  const data = (reservationId: string, seat: string) => ({
    reservation_id: reservationId,
    session_id: fixture.sessionId,
    user_id: randomUUID(),
    session_seat_ids: [seat],
  });
  const confirmFirst = createTicketingEvent('reservation.confirmed', data(first, seatA));
  const events = [
    confirmFirst,
    createTicketingEvent('ticket.refunded', { ...data(first, seatA), ticket_id: randomUUID() }),
    createTicketingEvent('ticket.refunded', data(second, seatB)),
    createTicketingEvent('reservation.confirmed', data(second, seatB)),
    confirmFirst,
  ];
  expect(await applyBookingEvents(store, events, logger)).toEqual(['applied', 'applied', 'applied', 'applied', 'duplicate']);
  expect(await seatRows(db, [seatA, seatB])).toEqual({
    [seatA]: { status: 'available', reservation_id: null },
    [seatB]: { status: 'available', reservation_id: null },
  });
  const refunds = await db('refunded_seats').select('reservation_id', 'session_seat_id').whereIn('reservation_id', [first, second]);
  expect(refunds).toHaveLength(2);
  // A later redelivery of the confirm, alone or in another batch, is a duplicate and sells nothing.
  expect(await applyBookingEvent(store, confirmFirst, logger)).toBe('duplicate');
  expect((await seatRows(db, [seatA]))[seatA].status).toBe('available');
});

test('a failing batch applies none of its events and records none of their ids', async () => {
  const fixture = await createSessionFixture(db);
  const store = seatInventoryRepository(db);
  const reservationId = randomUUID();
  const seat = fixture.seatIds[0];
  await placeHold(store, { sessionId: fixture.sessionId, reservationId, seatIds: [seat], reservedUntil: inMinutes(10) });
  const good = createTicketingEvent('reservation.cancelled', {
    reservation_id: reservationId,
    session_id: fixture.sessionId,
    user_id: randomUUID(),
    session_seat_ids: [seat],
  });
  // Not a uuid: Postgres refuses the batch's first statement.
  const broken = { ...good, id: randomUUID(), data: { ...good.data, session_id: 'not-a-uuid' } };
  await expect(applyBookingEvents(store, [good, broken], logger)).rejects.toThrow();
  expect((await seatRows(db, [seat]))[seat]).toEqual({ status: 'reserved', reservation_id: reservationId });
  expect(await db('processed_messages').whereIn('message_id', [good.id, broken.id])).toHaveLength(0);
});

test('message ids older than the retention are deleted in batches; newer ones stay', async () => {
  const store = seatInventoryRepository(db);
  const ids = Array.from({ length: 5 }, () => randomUUID());
  await db('processed_messages').insert(ids.map((id) => ({ message_id: id, routing_key: 'reservation.expired' })));
  const old = ids.slice(0, 3);
  await db('processed_messages').whereIn('message_id', old).update({ processed_at: db.raw("now() - interval '8 days'") });
  // Other tests' ids are recent; only these three are older than a week.
  expect(await purgeOldMessageIds(store, 7 * 24 * 3600, 2)).toBeGreaterThanOrEqual(3);
  const left = (await db('processed_messages').select('message_id').whereIn('message_id', ids)).map((row: { message_id: string }) => row.message_id);
  expect(left.sort()).toEqual(ids.slice(3).sort());
});
