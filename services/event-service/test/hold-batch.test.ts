import { randomUUID } from 'node:crypto';
import type { Knex } from '@ticketing/platform';
import type { EventApi } from '../src/entry-points/api';
import { placeHolds } from '../src/domain/hold-batch';
import { placeHold, type HoldCommand } from '../src/domain/seat-inventory';
import { AppError } from '@ticketing/platform';
import { seatInventoryRepository } from '../src/data-access/seat-inventory-repository';
import { request } from '../../../test/support/http';
import { startTestApi } from './support/api';
import { createSessionFixture, inMinutes, type SessionFixture } from './support/fixtures';

// POST /api/internal/holds/batch: many reservations in one call and one transaction, each answered on its own.
let api: EventApi;
let db: Knex;
beforeAll(async () => {
  api = await startTestApi();
  db = api.db;
});
afterAll(async () => {
  await api?.stop();
});

let s: SessionFixture;
beforeEach(async () => {
  s = await createSessionFixture(db, { rows: 2, seatsPerRow: 5 });
});

const hold = (reservationId: string, seatIds: string[], sessionId = s.sessionId) => ({
  session_id: sessionId,
  reservation_id: reservationId,
  session_seat_ids: seatIds,
  reserved_until: inMinutes(10).toISOString(),
});
const batch = (holds: unknown[]) => request(api.url, 'POST', '/api/internal/holds/batch', { body: { holds } });
const holderOf = async (seatId: string) =>
  (await db('session_seats').where({ id: seatId }).first('status', 'reservation_id')) as { status: string; reservation_id: string | null };

describe('batch hold', () => {
  test('when one reservation of a batch conflicts, then only it is refused and the others are held', async () => {
    const [a, b, c, d] = s.seatIds;
    const earlier = randomUUID();
    expect((await batch([hold(earlier, [b])])).status).toBe(200);
    const [first, conflicting, third] = [randomUUID(), randomUUID(), randomUUID()];

    const response = await batch([hold(first, [a]), hold(conflicting, [b, c]), hold(third, [d])]);

    expect(response.status).toBe(200);
    const results = response.body.results as Array<{ status: number; hold?: { reservation_id: string }; error?: { code: string; details: unknown } }>;
    expect(results.map((result) => result.status)).toEqual([200, 409, 200]);
    expect(results[0].hold?.reservation_id).toBe(first);
    expect(results[1].error).toMatchObject({ code: 'SEATS_UNAVAILABLE', details: { unavailable: [{ session_seat_id: b, status: 'reserved' }] } });
    expect(await holderOf(a)).toEqual({ status: 'reserved', reservation_id: first });
    // All or nothing: the conflicting reservation's free seat stays free.
    expect(await holderOf(c)).toEqual({ status: 'available', reservation_id: null });
    expect(await holderOf(d)).toEqual({ status: 'reserved', reservation_id: third });
  });

  test('when the batch statement meets a reservation with one taken seat, then it holds none of its seats itself (no undo needed)', async () => {
    const inventory = seatInventoryRepository(db);
    const [a, b, c, d, e, f] = s.seatIds;
    expect((await batch([hold(randomUUID(), [b, e])])).status).toBe(200);
    const command = (seatIds: string[]): HoldCommand => ({ sessionId: s.sessionId, reservationId: randomUUID(), seatIds, reservedUntil: inMinutes(10) });

    // The statement's contract: no seat asked for twice across the commands.
    const attempts = await inventory.tryHolds([command([a]), command([b, c]), command([d, e, f])], new Date());

    const heldSeats = attempts.map((attempt) => attempt!.seats.filter((seat) => seat.held).map((seat) => seat.id));
    expect(heldSeats).toEqual([[a], [], []]);
    expect((await Promise.all([c, d, f].map(holderOf))).map((seat) => seat.status)).toEqual(['available', 'available', 'available']);
  });

  test('when two reservations of one batch want the same seat, then the earlier gets it', async () => {
    const [a, b] = s.seatIds;
    const [earlier, later] = [randomUUID(), randomUUID()];

    const response = await batch([hold(earlier, [a, b]), hold(later, [b])]);

    expect(response.body.results.map((result: { status: number }) => result.status)).toEqual([200, 409]);
    expect(response.body.results[1].error.code).toBe('SEATS_UNAVAILABLE');
    expect(await holderOf(b)).toEqual({ status: 'reserved', reservation_id: earlier });
  });

  test('answers each hold as the single call would: unknown session 404, repeated hold 200, across sessions', async () => {
    const other = await createSessionFixture(db, { rows: 1, seatsPerRow: 2 });
    const again = randomUUID();
    await batch([hold(again, [s.seatIds[0]])]);

    const response = await batch([
      hold(randomUUID(), [randomUUID()], randomUUID()),
      hold(again, [s.seatIds[0]]),
      hold(randomUUID(), [other.seatIds[0]], other.sessionId),
    ]);

    expect(response.body.results.map((result: { status: number }) => result.status)).toEqual([404, 200, 200]);
    expect(response.body.results[0].error.code).toBe('NOT_FOUND');
    expect((await holderOf(other.seatIds[0])).status).toBe('reserved');
  });

  test('when the batch transaction (a seat asked for twice) fails, then every hold is placed again on its own, in order', async () => {
    const inventory = seatInventoryRepository(db);
    const [a, b] = s.seatIds;
    const [first, second] = [randomUUID(), randomUUID()];
    const failing = { ...inventory, holdTransaction: () => Promise.reject(new Error('connection lost')) };
    const command = (reservationId: string, seatId: string) => ({
      sessionId: s.sessionId,
      reservationId,
      seatIds: [seatId],
      reservedUntil: inMinutes(10),
    });

    const later = randomUUID();
    const outcomes = await placeHolds(failing, [command(first, a), command(second, b), command(later, a)]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual([200, 200, 409]);
    expect(await holderOf(a)).toEqual({ status: 'reserved', reservation_id: first });
    expect(await holderOf(b)).toEqual({ status: 'reserved', reservation_id: second });
  });

  test('when the one-statement batch fails, then nothing of it is applied and every hold is placed on its own, in order', async () => {
    const inventory = seatInventoryRepository(db);
    const [a, b, c] = s.seatIds;
    const [first, second] = [randomUUID(), randomUUID()];
    const taken = randomUUID();
    await placeHold(inventory, { sessionId: s.sessionId, reservationId: taken, seatIds: [c], reservedUntil: inMinutes(10) });
    const failing = { ...inventory, tryHolds: () => Promise.reject(new Error('connection lost')) };
    const command = (reservationId: string, seatIds: string[]) => ({ sessionId: s.sessionId, reservationId, seatIds, reservedUntil: inMinutes(10) });

    const outcomes = await placeHolds(failing, [command(first, [a]), command(second, [b, c])]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual([200, 409]);
    expect(await holderOf(a)).toEqual({ status: 'reserved', reservation_id: first });
    expect(await holderOf(b)).toEqual({ status: 'available', reservation_id: null });
  });

  test('when a batch (one statement) mixes every kind of refusal, then each answer and seat state is what the single calls give', async () => {
    const inventory = seatInventoryRepository(db);
    // The same situation twice: once held call by call, once as one batch.
    const situation = async () => {
      const f = await createSessionFixture(db, { rows: 1, seatsPerRow: 6 });
      const other = await createSessionFixture(db, { rows: 1, seatsPerRow: 1 });
      const started = await createSessionFixture(db, { rows: 1, seatsPerRow: 1 });
      await db('sessions').where({ id: started.sessionId }).update({ start_time: new Date(Date.now() - 60_000) });
      await placeHold(inventory, { sessionId: f.sessionId, reservationId: randomUUID(), seatIds: [f.seatIds[5]], reservedUntil: inMinutes(10) });
      const command = (seatIds: string[], sessionId = f.sessionId, reservedUntil = inMinutes(10)): HoldCommand => ({
        sessionId,
        reservationId: randomUUID(),
        seatIds,
        reservedUntil,
      });
      const commands = [
        command([f.seatIds[0], f.seatIds[1]]),
        command([f.seatIds[2], f.seatIds[2]]),
        command([f.seatIds[3]], f.sessionId, new Date(Date.now() - 1_000)),
        command([other.seatIds[0]]),
        command([started.seatIds[0]], started.sessionId),
        command([f.seatIds[4], f.seatIds[5]]),
        command([randomUUID()], randomUUID()),
      ];
      const seats = [...f.seatIds, other.seatIds[0], started.seatIds[0]];
      return { commands, states: async () => Promise.all(seats.map(async (id) => (await holderOf(id)).status)) };
    };
    const answer = (outcome: { status: number; error?: { code: string } }) => `${outcome.status} ${outcome.error?.code ?? ''}`;

    const single = await situation();
    const singleAnswers: string[] = [];
    for (const command of single.commands) {
      try {
        await placeHold(inventory, command);
        singleAnswers.push('200 ');
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        singleAnswers.push(`${error.status} ${error.code}`);
      }
    }
    const batched = await situation();
    const outcomes = await placeHolds(inventory, batched.commands);

    expect(outcomes.map(answer)).toEqual(singleAnswers);
    expect(singleAnswers).toEqual([
      '200 ',
      '409 SEATS_UNAVAILABLE',
      '422 VALIDATION_ERROR',
      '409 SEATS_UNAVAILABLE',
      '409 SESSION_STARTED',
      '409 SEATS_UNAVAILABLE',
      '404 NOT_FOUND',
    ]);
    expect(await batched.states()).toEqual(await single.states());
  });

  test('validates the request: empty or oversized batches and bad ids are 422', async () => {
    expect((await batch([])).status).toBe(422);
    expect((await batch([hold('nope', [s.seatIds[0]])])).status).toBe(422);
    expect((await batch(Array.from({ length: 129 }, () => hold(randomUUID(), [randomUUID()])))).status).toBe(422);
  });
});
