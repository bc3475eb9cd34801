import { randomUUID } from 'node:crypto';
import { createLogger, createTicketingEvent, type Knex } from '@ticketing/platform';
import { seatInventoryRepository } from '../src/data-access/seat-inventory-repository';
import { applyBookingEvent, placeHold } from '../src/domain/seat-inventory';
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
  // BEGIN, record + lock, free, COMMIT (was BEGIN, record, lock, free, COMMIT).
  expect(first.statements).toEqual(['BEGIN;', 'WITH', 'UPDATE', 'COMMIT;']);
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
