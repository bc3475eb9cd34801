/**
 * The relay's passes: a pass waits for the broker's confirms of its whole batch, and rows committed meanwhile
 * must not wait for it (that wait was the tail of confirm → sold). The broker side is the relay's publisher
 * port, here one whose confirms the test releases by hand; the outbox is the real Postgres table.
 */
import { randomUUID } from 'node:crypto';
import { createDatabase, createLogger, createTicketingEvent, type Knex, type TicketingEvent } from '@ticketing/platform';
import { createBookingStore } from '../src/data-access/booking-store';
import type { BookingStore } from '../src/domain/store';
import type { OutboxPublisher } from '../src/domain/outbox-publishing';
import { OutboxRelay } from '../src/entry-points/outbox-relay';
import { noMetrics } from '../src/domain/ports';
import { eventually } from '../../../test/support/http';
import { privateBookingDatabase, type PrivateBookingDatabase } from './support/harness';

let database: PrivateBookingDatabase;
let db: Knex;
let store: BookingStore;
const logger = createLogger('relay-passes-test', 'silent');

beforeAll(async () => {
  database = await privateBookingDatabase('relay_passes');
  db = createDatabase({ url: database.url, poolMax: 4 });
  store = createBookingStore(db);
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

afterEach(() => db.raw('TRUNCATE outbox'));

const expired = (): TicketingEvent =>
  createTicketingEvent('reservation.expired', {
    reservation_id: randomUUID(),
    session_id: randomUUID(),
    user_id: randomUUID(),
    session_seat_ids: [randomUUID()],
  });

/** A publisher whose confirms wait until the test releases them; records the order of the confirms. */
function heldPublisher() {
  const waiting = new Map<string, () => void>();
  const confirmed: string[] = [];
  const publisher: OutboxPublisher = {
    isConnected: () => true,
    publish: (event) =>
      new Promise<void>((resolve) => {
        waiting.set(event.id, () => {
          confirmed.push(event.id);
          resolve();
        });
      }),
  };
  const release = (id: string) => {
    waiting.get(id)?.();
    waiting.delete(id);
  };
  return { publisher, waiting, confirmed, release };
}

async function relayWith(maxConcurrentPasses: number) {
  const broker = heldPublisher();
  const relay = new OutboxRelay({ store, publisher: broker.publisher, logger, metrics: noMetrics, pollIntervalMs: 600_000, maxConcurrentPasses });
  return { relay, ...broker };
}

async function commitAndKick(relay: OutboxRelay, event: TicketingEvent) {
  await store.outbox.add(event);
  relay.kick();
}

test('a row committed while a pass waits for its confirms is published by a pass of its own', async () => {
  const { relay, waiting, release } = await relayWith(2);
  relay.start();
  const [first, second] = [expired(), expired()];
  await commitAndKick(relay, first);
  await eventually(async () => waiting.has(first.id) || undefined);

  await commitAndKick(relay, second);
  // The first pass still waits for its broker; the second row is already on its way.
  await eventually(async () => waiting.has(second.id) || undefined);
  release(second.id);
  await eventually(async () => (await db('outbox').where({ id: second.id }).whereNotNull('published_at').first()) ?? undefined);
  expect(await db('outbox').where({ id: first.id }).first()).toMatchObject({ published_at: null });

  release(first.id);
  await relay.stop();
  expect((await db('outbox').whereNull('published_at')).length).toBe(0);
});

test('with one pass at a time, the row waits for the pass in flight (what the concurrency removes)', async () => {
  const { relay, waiting, release } = await relayWith(1);
  relay.start();
  const [first, second] = [expired(), expired()];
  await commitAndKick(relay, first);
  await eventually(async () => waiting.has(first.id) || undefined);
  await commitAndKick(relay, second);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(waiting.has(second.id)).toBe(false);

  release(first.id);
  await eventually(async () => waiting.has(second.id) || undefined);
  release(second.id);
  await relay.stop();
  expect((await db('outbox').whereNull('published_at')).length).toBe(0);
});

test('concurrent passes never publish a row twice', async () => {
  const published: string[] = [];
  const publisher: OutboxPublisher = {
    isConnected: () => true,
    publish: async (event) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      published.push(event.id);
    },
  };
  const relay = new OutboxRelay({ store, publisher, logger, metrics: noMetrics, pollIntervalMs: 600_000, batchSize: 7, maxConcurrentPasses: 3 });
  relay.start();
  const events = Array.from({ length: 60 }, expired);
  await Promise.all(events.map((event) => commitAndKick(relay, event)));
  await eventually(async () => ((await db('outbox').whereNull('published_at')).length === 0 ? true : undefined), 10_000);
  await relay.stop();
  expect(published.sort()).toEqual(events.map((event) => event.id).sort());
});
