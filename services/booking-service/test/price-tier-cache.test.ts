import { randomUUID } from 'node:crypto';
import { createDatabase, type Knex } from '@ticketing/platform';
import { createBookingStore } from '../src/data-access/booking-store';
import { withCachedPriceTiers } from '../src/data-access/cached-price-tiers';
import { migrateBookingDatabase } from '../src/data-access/database';
import type { PriceTierChanges } from '../src/data-access/price-tier-changes';
import type { BookingStore } from '../src/domain/store';
import type { RunningBookingApi } from '../src/entry-points/api';
import { BOOKING_TEST_DATABASE_URL } from '../../../test/support/infra';
import { asUser, createTestSession, eventually, newUser, request, startBookingSide, stopBookingSide, useBookingSystem } from './support/harness';

const system = useBookingSystem({ booking: true });

/** Change notices within one process: what the Redis feed does, with the test choosing when it listens. */
function localChanges() {
  const listeners: Array<() => void> = [];
  const feed = {
    listening: true,
    announced: 0,
    notify: () => listeners.forEach((listener) => listener()),
    isListening: () => feed.listening,
    onChange: (listener: () => void) => void listeners.push(listener),
    announce: async () => {
      feed.announced += 1;
      feed.notify();
    },
    close: async () => undefined,
  };
  return feed satisfies PriceTierChanges;
}

describe('price tiers cached across two booking API replicas', () => {
  let other: RunningBookingApi | undefined;
  beforeAll(async () => {
    other = await startBookingSide(system.event.url);
  });
  afterAll(() => stopBookingSide(other));

  test('when a tier is created through one replica, then the other, which had cached the list, lists it and prices holds with it', async () => {
    const session = await createTestSession(system.event.url, { seats: 2, price: 40 });
    // The list holds every global tier other tests made, oldest first: cache the last page, where the new one lands.
    const page = (offset: number) => `/api/v1/price-tiers?session_id=${session.sessionId}&limit=100&offset=${offset}`;
    let total = 0;
    for (let length = 100; length === 100; total += length) length = (await request(other!.url, 'GET', page(total))).body.length;
    const listPath = page(Math.max(0, total - 50));
    const before = await request(other!.url, 'GET', listPath);
    expect(before.body.filter((tier: any) => tier.session_id === session.sessionId)).toEqual([]);

    const created = await request(system.booking.url, 'POST', '/api/v1/price-tiers', {
      body: { session_id: session.sessionId, name: 'Student', multiplier: 0.75 },
    });
    expect(created.status).toBe(201);

    const listed = await eventually(async () => {
      const response = await request(other!.url, 'GET', listPath);
      return response.body.some((tier: any) => tier.id === created.body.id);
    });
    expect(listed).toBe(true);
    const held = await request(other!.url, 'POST', '/api/v1/reservations', {
      ...asUser(newUser()),
      body: { session_id: session.sessionId, seats: [{ session_seat_id: session.seatIds[0], price_tier_id: created.body.id }] },
    });
    expect(held.status).toBe(201);
    expect(held.body.items[0]).toMatchObject({ price: 40, final_price: 30, price_tier_id: created.body.id });
  });
});

describe('the price tier cache (withCachedPriceTiers)', () => {
  let db: Knex;
  beforeAll(async () => {
    await migrateBookingDatabase(BOOKING_TEST_DATABASE_URL);
    db = createDatabase({ url: BOOKING_TEST_DATABASE_URL, poolMax: 2 });
  });
  afterAll(() => db.destroy());

  const newTier = async (store: BookingStore) =>
    store.priceTiers.insert({ id: randomUUID(), session_id: randomUUID(), name: 'Tier', multiplier: '0.5000', description: null });
  const changeBehindTheCache = (id: string, multiplier: string) => db('price_tiers').where({ id }).update({ multiplier });

  test('when a tier was read, then later reads come from memory until a change notice, and read Postgres again after it', async () => {
    const changes = localChanges();
    const store = withCachedPriceTiers(createBookingStore(db), changes, { ttlMs: 60_000 });
    const tier = await newTier(store);
    expect((await store.priceTiers.findById(tier.id))?.multiplier).toBe('0.5000');

    await changeBehindTheCache(tier.id, '0.2500');
    expect((await store.priceTiers.findByIds([tier.id]))[0].multiplier).toBe('0.5000');
    changes.notify();
    expect((await store.priceTiers.findByIds([tier.id]))[0].multiplier).toBe('0.2500');
  });

  test('when the replica is not listening for change notices, then every read goes to Postgres', async () => {
    const changes = localChanges();
    const store = withCachedPriceTiers(createBookingStore(db), changes, { ttlMs: 60_000 });
    const tier = await newTier(store);
    changes.listening = false;
    await store.priceTiers.findById(tier.id);
    await changeBehindTheCache(tier.id, '0.2500');
    expect((await store.priceTiers.findById(tier.id))?.multiplier).toBe('0.2500');
  });

  test('when a cached read is older than the TTL, then it is read again', async () => {
    const changes = localChanges();
    let clock = 0;
    const store = withCachedPriceTiers(createBookingStore(db), changes, { ttlMs: 1_000, now: () => clock });
    const tier = await newTier(store);
    await store.priceTiers.findById(tier.id);
    await changeBehindTheCache(tier.id, '0.2500');
    clock = 999;
    expect((await store.priceTiers.findById(tier.id))?.multiplier).toBe('0.5000');
    clock = 1_000;
    expect((await store.priceTiers.findById(tier.id))?.multiplier).toBe('0.2500');
  });

  test('when a change notice arrives while a read is on its way to Postgres, then that read is answered but not cached', async () => {
    const changes = localChanges();
    const plain = createBookingStore(db);
    const tier = await newTier(plain);
    const noticeDuringRead: BookingStore = {
      ...plain,
      priceTiers: {
        ...plain.priceTiers,
        findByIds: async (ids) => {
          const rows = await plain.priceTiers.findByIds(ids);
          await changeBehindTheCache(tier.id, '0.2500');
          changes.notify();
          return rows;
        },
      },
    };
    const store = withCachedPriceTiers(noticeDuringRead, changes, { ttlMs: 60_000 });
    expect((await store.priceTiers.findById(tier.id))?.multiplier).toBe('0.5000');
    const direct = withCachedPriceTiers(plain, changes, { ttlMs: 60_000 });
    expect((await direct.priceTiers.findById(tier.id))?.multiplier).toBe('0.2500');
    // The first store cached nothing: its next read goes to Postgres (and sees the change it made again).
    await changeBehindTheCache(tier.id, '0.1000');
    expect((await store.priceTiers.findById(tier.id))?.multiplier).toBe('0.1000');
  });

  test('when a tier is written in a transaction, then the change is announced after the commit, and not after a rollback', async () => {
    const changes = localChanges();
    const store = withCachedPriceTiers(createBookingStore(db), changes, { ttlMs: 60_000 });
    const tier = await newTier(store);
    expect(changes.announced).toBe(1);
    // The session's list includes every global tier other tests made, oldest first: one page that holds them all.
    const everyTier = { sessionId: tier.session_id!, limit: 10_000, offset: 0 };
    await store.priceTiers.list(everyTier);

    let announcedInside = -1;
    const second = { ...tier, id: randomUUID(), name: 'Second' };
    await store.transaction(async (tx) => {
      await tx.priceTiers.insert({ id: second.id, session_id: second.session_id, name: second.name, multiplier: '0.5000', description: null });
      announcedInside = changes.announced;
    });
    expect(announcedInside).toBe(1);
    expect(changes.announced).toBe(2);
    expect((await store.priceTiers.list(everyTier)).map((row) => row.id)).toContain(second.id);

    await expect(
      store.transaction(async (tx) => {
        await tx.priceTiers.insert({ id: randomUUID(), session_id: null, name: 'Rolled back', multiplier: '0.5000', description: null });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(changes.announced).toBe(2);
  });
});
