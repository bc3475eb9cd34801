import { Redis } from 'ioredis';
import type { RunningBookingApi } from '../src/entry-points/api';
import { runExpirySweep } from '../src/entry-points/expire-reservations-main';
import { seatLockResource } from '../src/data-access/seat-locks';
import { REDIS_URL } from '../../../test/support/infra';
import {
  confirm,
  createTestSession,
  expireNow,
  newUser,
  outboxRows,
  privateBookingDatabase,
  reserve,
  seatStates,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from './support/harness';

const system = useBookingSystem({ booking: true, eventDb: true });
let redis: Redis;

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});

afterAll(() => {
  redis?.disconnect();
});

describe('when buyers race for seats', () => {
  it('200 concurrent buyers of one seat: exactly one 201, the rest 409, no 5xx', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 1 });
    const responses = await Promise.all(Array.from({ length: 200 }, () => reserve(system.booking.url, newUser(), sessionId, seatIds)));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(199);
    for (const response of responses.filter((r) => r.status === 409)) {
      expect(['SEAT_LOCKED', 'SEATS_UNAVAILABLE']).toContain(response.body.error.code);
      expect(response.body.error.message).toBe('Seat already locked by another user');
    }
    const winner = responses.find((r) => r.status === 201)!.body;
    expect((await seatStates(system.eventDb, seatIds)).get(seatIds[0])).toMatchObject({ status: 'reserved', reservation_id: winner.id });
    const reservations = await system.booking.db('reservations').where({ session_id: sessionId });
    expect(reservations.map((r: any) => r.id)).toEqual([winner.id]);
    expect(await redis.exists(seatLockResource(seatIds[0]))).toBe(0);
  });

  it('overlapping multi-seat requests never leave a partial hold', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 6 });
    const [a, b, c, d, e, f] = seatIds;
    const shapes = [[a, b], [b, c], [c, d], [d, e], [e, f], [a, f], [a, c, e], [b, d, f], [a, b, c, d, e, f], [f, a]];
    const requests = Array.from({ length: 60 }, (_, i) => shapes[i % shapes.length]);
    const responses = await Promise.all(requests.map((seats) => reserve(system.booking.url, newUser(), sessionId, seats)));

    expect(responses.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const winners = responses.filter((r) => r.status === 201).map((r) => r.body);
    expect(winners.length).toBeGreaterThanOrEqual(1);

    const states = await seatStates(system.eventDb, seatIds);
    const heldBy = new Map<string, string[]>();
    for (const seat of states.values()) {
      if (seat.reservation_id) heldBy.set(seat.reservation_id, [...(heldBy.get(seat.reservation_id) ?? []), seat.id]);
    }
    // Every hold at the event service belongs to a reservation that holds ALL of its seats, and vice versa.
    expect([...heldBy.keys()].sort()).toEqual(winners.map((w) => w.id).sort());
    for (const winner of winners) {
      expect([...(heldBy.get(winner.id) ?? [])].sort()).toEqual(winner.items.map((i: any) => i.session_seat_id).sort());
    }
    const active = await system.booking.db('reservations').where({ session_id: sessionId, status: 'active' });
    expect(active.map((r: any) => r.id).sort()).toEqual(winners.map((w) => w.id).sort());
    expect(await system.booking.db('pending_holds').whereIn('reservation_id', winners.map((w) => w.id))).toEqual([]);
  });
});

describe('expiry', () => {
  let db: Awaited<ReturnType<typeof privateBookingDatabase>>;
  let isolated: RunningBookingApi;

  beforeAll(async () => {
    // Own database: these sweeps expire everything that is due, which must not touch other suites' rows.
    db = await privateBookingDatabase('expiry');
    isolated = await startBookingSide(system.event.url, { DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await stopBookingSide(isolated);
    await db?.drop();
  });

  it('two sweeps at once expire each due reservation once and write one reservation.expired each', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 12 });
    const ids: string[] = [];
    for (const seat of seatIds) {
      const created = await reserve(isolated.url, newUser(), sessionId, [seat]);
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    const live = ids.pop()!;
    for (const id of ids) await expireNow(isolated.db, id);

    const config = { ...isolated.config, EXPIRY_BATCH_SIZE: 2 };
    const [first, second] = await Promise.all([runExpirySweep(config), runExpirySweep(config)]);

    expect(first.expired + second.expired).toBe(ids.length);
    const rows = await isolated.db('reservations').whereIn('id', [...ids, live]).select('id', 'status');
    expect(Object.fromEntries(rows.map((r: any) => [r.id, r.status]))).toEqual({
      ...Object.fromEntries(ids.map((id) => [id, 'expired'])),
      [live]: 'active',
    });
    for (const id of ids) {
      const outbox = await outboxRows(isolated.db, id);
      expect(outbox.map((r: any) => r.routing_key)).toEqual(['reservation.expired']);
      expect(outbox[0].payload.data).toMatchObject({ reservation_id: id, session_id: sessionId, session_seat_ids: [expect.any(String)] });
    }
    expect(await outboxRows(isolated.db, live)).toEqual([]);
    expect((await runExpirySweep(config)).expired).toBe(0);
  });

  it('a confirm racing the sweep has exactly one winner and leaves a consistent state', async () => {
    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 16 });
    const holds: Array<{ id: string; user: string }> = [];
    for (const seat of seatIds) {
      const user = newUser();
      const created = await reserve(isolated.url, user, sessionId, [seat]);
      holds.push({ id: created.body.id, user });
    }
    // Expiring within the next second: some confirms get in first, some arrive after the hold ran out.
    for (const [i, hold] of holds.entries()) {
      await isolated.db('reservations')
        .where({ id: hold.id })
        .update({ expiry_time: isolated.db.raw(`now() + make_interval(secs => ?)`, [(i % 8) * 0.15]) });
    }
    const config = { ...isolated.config, EXPIRY_BATCH_SIZE: 3 };
    let confirming = true;
    const sweeping = (async () => {
      while (confirming) {
        await runExpirySweep(config);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const confirms = await Promise.all(
      holds.map(async (hold, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i % 5) * 60));
        return confirm(isolated.url, hold.user, hold.id);
      }),
    );
    confirming = false;
    await sweeping;
    await runExpirySweep(config);

    for (const [i, hold] of holds.entries()) {
      const response = confirms[i];
      const row = await isolated.db('reservations').where({ id: hold.id }).first();
      const tickets = await isolated.db('tickets').where({ reservation_id: hold.id });
      const kinds = (await outboxRows(isolated.db, hold.id)).map((r: any) => r.routing_key);
      expect([200, 410]).toContain(response.status);
      if (response.status === 200) {
        expect(row.status).toBe('confirmed');
        expect(tickets).toHaveLength(1);
        expect(kinds).toEqual(['reservation.confirmed']);
      } else {
        expect(response.body.error.message).toBe('Reservation expired');
        expect(row.status).toBe('expired');
        expect(tickets).toHaveLength(0);
        expect(kinds).toEqual(['reservation.expired']);
      }
    }
  });
});
