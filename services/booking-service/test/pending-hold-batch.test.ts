import { randomUUID } from 'node:crypto';
import { createDatabase, type Knex } from '@ticketing/platform';
import { recordManyWithinCap } from '../src/data-access/batched-pending-holds';
import { createBookingStore } from '../src/data-access/booking-store';
import type { BookingStore } from '../src/domain/store';
import { privateBookingDatabase } from './support/harness';

// The pending-hold journal of many requests in one round trip, each under its own (user, session) seat cap.
let database: Awaited<ReturnType<typeof privateBookingDatabase>>;
let db: Knex;
let store: BookingStore;

beforeAll(async () => {
  database = await privateBookingDatabase('pending_batch');
  db = createDatabase({ url: database.url, poolMax: 3 });
  store = createBookingStore(db);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

const hold = (userId: string, sessionId: string, seats: number) => ({
  reservationId: randomUUID(),
  userId,
  sessionId,
  sessionSeatIds: Array.from({ length: seats }, () => randomUUID()),
});

describe('recordManyWithinCap', () => {
  test('when one user of a batch is at the cap, then only that hold is refused and the others are journaled', async () => {
    const session = randomUUID();
    const [atCap, fresh, other] = [randomUUID(), randomUUID(), randomUUID()];
    expect(await store.pendingHolds.recordWithinCap(hold(atCap, session, 2), 3)).toEqual({ kind: 'recorded' });
    const batch = [hold(fresh, session, 3), hold(atCap, session, 2), hold(other, randomUUID(), 1)];

    const outcomes = await recordManyWithinCap(db, batch, 3);

    expect(outcomes).toEqual([{ kind: 'recorded' }, { kind: 'cap_exceeded', held: 2 }, { kind: 'recorded' }]);
    const journaled = await db('pending_holds').whereIn('reservation_id', batch.map((entry) => entry.reservationId)).pluck('reservation_id');
    expect(journaled.sort()).toEqual([batch[0].reservationId, batch[2].reservationId].sort());
  });

  test('when a hold’s id was abandoned by the sweep, then it is answered abandoned and the rest are journaled', async () => {
    const abandoned = hold(randomUUID(), randomUUID(), 1);
    await store.pendingHolds.record(abandoned);
    await db('pending_holds').where({ reservation_id: abandoned.reservationId }).update({ abandoned_at: db.fn.now() });
    const live = hold(randomUUID(), randomUUID(), 1);

    expect(await recordManyWithinCap(db, [abandoned, live], 10)).toEqual([{ kind: 'abandoned' }, { kind: 'recorded' }]);
  });

  test('refuses two holds of one (user, session) in one statement: the second must see the first', async () => {
    const [user, session] = [randomUUID(), randomUUID()];
    await expect(recordManyWithinCap(db, [hold(user, session, 1), hold(user, session, 1)], 10)).rejects.toThrow(/one hold per/);
  });
});
