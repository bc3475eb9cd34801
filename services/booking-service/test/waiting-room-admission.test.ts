/**
 * The waiting room's use cases and its ticker against the real Redis, on a clock the test moves: fair start,
 * FIFO after the opening, admission at the rate, lost slots, sold out, and a restart mid-queue.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createLogger } from '@ticketing/platform';
import { REDIS_URL } from '../../../test/support/infra';
import type { SeatCounts, WaitingRoomStore } from '../src/domain/waiting-room-ports';
import { createWaitingRoomStore } from '../src/data-access/waiting-room-store';
import { AdmissionTicker, type QueueUpdate } from '../src/domain/admission-tick';
import { assertAdmitted, joinQueue, readStatus, recordAdmittedHold, type WaitingRoomDeps } from '../src/domain/waiting-room';

const SECRET = 'waiting-room-test-secret-32-bytes-long';
const logger = createLogger('waiting-room-test', 'silent');

interface Room {
  sessionId: string;
  deps: WaitingRoomDeps;
  ticker: AdmissionTicker;
  clock: { now: number };
  seats: SeatCounts;
  metrics: { admitted: number; abandoned: number; waits: number[]; told: number };
}

const connections: Redis[] = [];
const prefixes = new Set<string>();
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await connections[0].keys(`${prefix}:*`);
    if (keys.length > 0) await connections[0].del(...keys);
  }
  await Promise.all(connections.map((redis) => redis.quit()));
});

function connect(prefix: string): WaitingRoomStore {
  const redis = new Redis(REDIS_URL);
  connections.push(redis);
  prefixes.add(prefix);
  return createWaitingRoomStore(redis, prefix);
}

/** A store on its own key prefix, a ticker on a test clock, and a seat map the test sets. */
function room(prefix = `wr-test-${randomUUID().slice(0, 8)}`, sessionId: string = randomUUID(), clock = { now: Date.UTC(2030, 0, 1) }): Room {
  const store = connect(prefix);
  const seats: SeatCounts = { available: 100, reserved: 0, sold: 0 };
  const metrics = { admitted: 0, abandoned: 0, waits: [] as number[], told: 0 };
  const ticker = new AdmissionTicker(
    {
      store,
      seatCounts: { counts: async () => ({ ...seats }), forget: () => undefined },
      metrics: {
        admitted: (count) => (metrics.admitted += count),
        abandoned: (count) => (metrics.abandoned += count),
        waited: (seconds) => metrics.waits.push(seconds),
        queueLength: () => undefined,
        soldOutNotified: (count) => (metrics.told += count),
      },
      logger,
      now: () => clock.now,
    },
    { soldOutCheckMs: 0 },
  );
  const notUsed = async (): Promise<never> => {
    throw new Error('the event service is not used here');
  };
  const eventService = { sessionOrganizer: notUsed, getSessionStart: notUsed };
  return { sessionId, deps: { store, eventService, admissionSecret: SECRET, now: () => clock.now }, ticker, clock, seats, metrics };
}

async function configure(r: Room, options: { opensInMs: number; rate: number; holdSeconds?: number }) {
  await r.deps.store.configure(r.sessionId, {
    opensAt: new Date(r.clock.now + options.opensInMs),
    admissionRatePerSecond: options.rate,
    holdWindowSeconds: options.holdSeconds ?? 60,
  });
}

const status = (r: Room, userId: string) => readStatus(r.deps, r.sessionId, userId);

async function tickFor(r: Room, ms: number, step = 250) {
  for (let elapsed = 0; elapsed < ms; elapsed += step) {
    r.clock.now += step;
    await r.ticker.tick();
  }
}

describe('waiting room admission', () => {
  it('when buyers join before the opening (some from many tabs), then each gets one place in a random order drawn at opening', async () => {
    const r = room();
    await configure(r, { opensInMs: 60_000, rate: 1 });
    const buyers = Array.from({ length: 40 }, () => randomUUID());
    for (const buyer of buyers) {
      const joined = await joinQueue(r.deps, buyer, r.sessionId);
      expect(joined).toMatchObject({ status: 'WAITING_FOR_OPENING', position: null });
    }
    // Ten more tabs of the first buyer, and of the last one.
    for (let tab = 0; tab < 10; tab += 1) {
      await joinQueue(r.deps, buyers[0], r.sessionId);
      await joinQueue(r.deps, buyers[39], r.sessionId);
    }
    expect((await status(r, buyers[5])).waiting).toBe(40);

    await tickFor(r, 1_000);
    expect((await status(r, buyers[0])).status).toBe('WAITING_FOR_OPENING');
    r.clock.now += 60_000;
    await r.ticker.tick();

    const positions = await Promise.all(buyers.map(async (buyer) => (await status(r, buyer)).position));
    expect([...positions].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Joining order is not the drawn order (the chance a fair draw keeps it is 1 in 40!).
    expect(positions).not.toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    // Another tab after the opening still finds the drawn place.
    expect((await joinQueue(r.deps, buyers[0], r.sessionId)).position).toBe(positions[0]);
  });

  it('when buyers join after the opening, then they are queued and admitted first come, first served at the rate', async () => {
    const r = room();
    await configure(r, { opensInMs: 0, rate: 4 });
    await r.ticker.tick();
    const buyers = Array.from({ length: 12 }, () => randomUUID());
    for (const [index, buyer] of buyers.entries()) {
      expect((await joinQueue(r.deps, buyer, r.sessionId)).position).toBe(index + 1);
    }
    expect(await status(r, buyers[11])).toMatchObject({ status: 'QUEUED', position: 12, ahead: 11, estimated_wait_seconds: 3 });

    await tickFor(r, 1_000);
    const states = await Promise.all(buyers.map(async (buyer) => (await status(r, buyer)).status));
    expect(states).toEqual([...Array(4).fill('ADMITTED'), ...Array(8).fill('QUEUED')]);
    expect((await status(r, buyers[4])).position).toBe(1);
    const admitted = await status(r, buyers[0]);
    expect(admitted.admission?.token).toEqual(expect.any(String));
    expect(r.metrics.admitted).toBe(4);
  });

  it('when the organizer changes the rate while the queue runs, then the next ticks admit at the new rate', async () => {
    const r = room();
    await configure(r, { opensInMs: 0, rate: 2 });
    await r.ticker.tick();
    for (let i = 0; i < 40; i += 1) await joinQueue(r.deps, randomUUID(), r.sessionId);
    await tickFor(r, 1_000);
    expect(r.metrics.admitted).toBe(2);
    await r.deps.store.configure(r.sessionId, { opensAt: new Date(0), admissionRatePerSecond: 20, holdWindowSeconds: 60 });
    await tickFor(r, 1_000);
    expect(r.metrics.admitted).toBe(22);
  });

  it('when an admitted buyer holds no seats within the hold window, then the slot goes to the next one and the old token expires', async () => {
    const r = room();
    // One slot: rate 0.1/s × 10 s window.
    await configure(r, { opensInMs: 0, rate: 0.1, holdSeconds: 10 });
    await r.ticker.tick();
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    for (const buyer of [first, second, third]) await joinQueue(r.deps, buyer, r.sessionId);
    await tickFor(r, 10_000);
    const token = (await status(r, first)).admission?.token;
    expect((await status(r, first)).status).toBe('ADMITTED');
    await expect(assertAdmitted(r.deps, { userId: first, sessionId: r.sessionId, token })).resolves.toEqual({ queued: true });
    expect((await status(r, second)).status).toBe('QUEUED');

    // The slot is taken: more credit does not admit the second buyer until the first one's window passes.
    await tickFor(r, 5_000);
    expect((await status(r, second)).status).toBe('QUEUED');
    await tickFor(r, 5_500);
    expect((await status(r, first)).status).toBe('NOT_IN_QUEUE');
    await expect(assertAdmitted(r.deps, { userId: first, sessionId: r.sessionId, token })).rejects.toMatchObject({
      status: 403,
      code: 'QUEUE_ADMISSION_REQUIRED',
      details: { reason: 'expired' },
    });
    expect((await status(r, second)).status).toBe('ADMITTED');
    expect(r.metrics.abandoned).toBe(1);

    // The second buyer holds seats: their slot is free for the third as soon as the rate allows, while the
    // second keeps their token until their own window ends (and is not counted as abandoning).
    await recordAdmittedHold(r.deps, r.sessionId, second);
    await tickFor(r, 9_000);
    expect((await status(r, second)).status).toBe('ADMITTED');
    await tickFor(r, 1_250);
    expect((await status(r, third)).status).toBe('ADMITTED');
    expect(r.metrics.abandoned).toBe(1);
  });

  it('when the session sells out, then everyone still waiting is told SOLD_OUT at once and one update announces it', async () => {
    const r = room();
    await configure(r, { opensInMs: 60_000, rate: 1 });
    const early = Array.from({ length: 5 }, () => randomUUID());
    for (const buyer of early) await joinQueue(r.deps, buyer, r.sessionId);
    r.clock.now += 60_000;
    await r.ticker.tick();
    const late = randomUUID();
    await joinQueue(r.deps, late, r.sessionId);
    await tickFor(r, 1_000);

    const updates: QueueUpdate[] = [];
    const subscriber = new Redis(REDIS_URL);
    connections.push(subscriber);
    await subscriber.subscribe(r.deps.store.updatesChannel);
    subscriber.on('message', (_channel, message: string) => updates.push(JSON.parse(message) as QueueUpdate));

    Object.assign(r.seats, { available: 0, reserved: 0, sold: 100 });
    await r.ticker.tick();
    const statuses = await Promise.all([...early, late].map(async (buyer) => (await status(r, buyer)).status));
    expect(statuses.filter((s) => s === 'SOLD_OUT')).toHaveLength(5);
    expect(statuses.filter((s) => s === 'ADMITTED')).toHaveLength(1);
    expect(r.metrics.told).toBe(5);
    expect((await joinQueue(r.deps, randomUUID(), r.sessionId)).status).toBe('SOLD_OUT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(updates.filter((u) => u.session_id === r.sessionId && u.kind === 'sold_out')).toHaveLength(1);
  });

  it('when every seat is on hold but not all are sold, then admissions pause without selling out', async () => {
    const r = room();
    await configure(r, { opensInMs: 0, rate: 10 });
    await r.ticker.tick();
    const buyer = randomUUID();
    await joinQueue(r.deps, buyer, r.sessionId);
    Object.assign(r.seats, { available: 0, reserved: 3, sold: 97 });
    await tickFor(r, 1_000);
    expect((await status(r, buyer)).status).toBe('QUEUED');
    Object.assign(r.seats, { available: 1, reserved: 2, sold: 97 });
    await tickFor(r, 500);
    expect((await status(r, buyer)).status).toBe('ADMITTED');
  });

  it('when the process restarts mid-queue, then a new store and ticker on a new connection continue from Redis', async () => {
    const prefix = `wr-test-${randomUUID().slice(0, 8)}`;
    const before = room(prefix);
    await configure(before, { opensInMs: 0, rate: 2 });
    await before.ticker.tick();
    const buyers = Array.from({ length: 6 }, () => randomUUID());
    for (const buyer of buyers) await joinQueue(before.deps, buyer, before.sessionId);
    await tickFor(before, 1_000);

    const after = room(prefix, before.sessionId, before.clock);
    expect((await status(after, buyers[2])).position).toBe(1);
    await tickFor(after, 1_000);
    const states = await Promise.all(buyers.map(async (buyer) => (await status(after, buyer)).status));
    expect(states).toEqual(['ADMITTED', 'ADMITTED', 'ADMITTED', 'ADMITTED', 'QUEUED', 'QUEUED']);
    expect((await joinQueue(after.deps, buyers[5], after.sessionId)).position).toBe(2);
  });

  it('when two tickers pass over the same moment, then only one of them admits', async () => {
    const prefix = `wr-test-${randomUUID().slice(0, 8)}`;
    const one = room(prefix);
    const two = room(prefix, one.sessionId, one.clock);
    await configure(one, { opensInMs: 0, rate: 4 });
    await one.ticker.tick();
    for (let i = 0; i < 20; i += 1) await joinQueue(one.deps, randomUUID(), one.sessionId);
    one.clock.now += 1_000;
    await Promise.all([one.ticker.tick(), two.ticker.tick()]);
    expect(one.metrics.admitted + two.metrics.admitted).toBe(4);
  });
});
