import { randomUUID } from 'node:crypto';
import type { EventApi } from '../src/entry-points/api';
import { catalogRepository } from '../src/data-access/catalog-repository';
import { addSeats } from '../src/domain/catalog';
import { ANYONE } from './support/fixtures';
import { request } from '../../../test/support/http';
import { startTestApi } from './support/api';

let api: EventApi;
const call = (method: string, path: string, body?: unknown) => request(api.url, method, `/api/v1${path}`, { body });

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

async function newHall(): Promise<string> {
  const location = (await call('POST', '/locations', { name: 'Stadium' })).body;
  return (await call('POST', `/locations/${location.id}/halls`, { name: 'Bowl', capacity: 100_000 })).body.id;
}

/** 250 rows of 400 seats; every tenth seat is VIP. */
const stadiumSeats = () =>
  Array.from({ length: 100_000 }, (_, i) => ({
    row_number: Math.floor(i / 400) + 1,
    seat_number: String((i % 400) + 1),
    ...(i % 10 === 9 ? { seat_type: 'vip' } : {}),
  }));

describe('a 100,000-seat hall', () => {
  test('takes all its seats in one bulk call, and a session copies every one of them', async () => {
    const hallId = await newHall();
    const created = await call('POST', `/halls/${hallId}/seats/bulk`, { seats: stadiumSeats() });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ hall_id: hallId, created: 100_000 });
    expect(await api.db('seats').where({ hall_id: hallId }).count({ n: '*' }).first()).toEqual({ n: 100_000 });

    const organizer = (await call('POST', '/organizers', { name: 'Stadium Events' })).body;
    const event = (await call('POST', '/events', { title: 'Final', event_type: 'sport', organizer_id: organizer.id })).body;
    const session = await call('POST', '/sessions', {
      event_id: event.id,
      hall_id: hallId,
      start_time: '2032-07-01T18:00:00Z',
      end_time: '2032-07-01T21:00:00Z',
      base_price: 30,
      seat_type_multipliers: { vip: 2.5 },
    });
    expect(session.status).toBe(201);
    expect(session.body.seats_count).toBe(100_000);
    const counts = await api
      .db('session_seats')
      .select('status', 'price')
      .count({ n: '*' })
      .where({ session_id: session.body.id })
      .groupBy('status', 'price')
      .orderBy('price');
    expect(counts).toEqual([
      { status: 'available', price: '30.00', n: 90_000 },
      { status: 'available', price: '75.00', n: 10_000 },
    ]);

    const map = await call('GET', `/sessions/${session.body.id}/seat-map`);
    expect(map.status).toBe(200);
    expect(map.body.seats).toHaveLength(100_000);
    expect(map.body.seats[399]).toMatchObject({ row_number: '1', seat_number: '400' });
    expect(map.body.seats[400]).toMatchObject({ row_number: '2', seat_number: '1' });
    expect(map.body.seats[99_999]).toMatchObject({ row_number: '250', seat_number: '400', price: 75 });
  });

  test('a second upload of the same seats is a 409 and adds nothing', async () => {
    const hallId = await newHall();
    const seats = stadiumSeats().slice(0, 1_000);
    expect((await call('POST', `/halls/${hallId}/seats/bulk`, { seats })).status).toBe(201);
    const again = await call('POST', `/halls/${hallId}/seats/bulk`, {
      seats: [{ row_number: 'Z', seat_number: 1 }, ...seats.slice(500, 502)],
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('SEAT_EXISTS');
    expect(again.body.error.details.existing).toEqual([
      { row_number: '2', seat_number: '101', seat_type: 'standard' },
      { row_number: '2', seat_number: '102', seat_type: 'standard' },
    ]);
    expect(await api.db('seats').where({ hall_id: hallId }).count({ n: '*' }).first()).toEqual({ n: 1_000 });
  });
});

describe('bulk seat validation', () => {
  test('lists the first bad seats by index and adds nothing', async () => {
    const hallId = await newHall();
    const seats: unknown[] = stadiumSeats().slice(0, 5_000);
    seats[7] = { row_number: '', seat_number: 1 };
    seats[1234] = { row_number: 1, seat_number: 1 }; // repeats index 0
    seats[4999] = 'not a seat';
    const response = await call('POST', `/halls/${hallId}/seats/bulk`, { seats });
    expect(response.status).toBe(422);
    const fields = response.body.error.details.fields;
    expect(fields.map((f: { field: string }) => f.field)).toEqual([
      'body.seats.7.row_number',
      'body.seats.1234',
      'body.seats.4999',
      'body.seats',
    ]);
    expect(fields[1].message).toMatch(/index 0/);
    expect(await api.db('seats').where({ hall_id: hallId }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  test('reports at most 20 problems however many seats are bad', async () => {
    const hallId = await newHall();
    const seats = Array.from({ length: 10_000 }, () => ({ row_number: '', seat_number: '' }));
    const response = await call('POST', `/halls/${hallId}/seats/bulk`, { seats });
    expect(response.status).toBe(422);
    expect(response.body.error.details.fields).toHaveLength(21);
    expect(response.body.error.details.fields[20].message).toMatch(/^10000 of 10000 seats/);
  });

  test('rejects empty and oversized uploads, and unknown halls', async () => {
    const hallId = await newHall();
    expect((await call('POST', `/halls/${hallId}/seats/bulk`, { seats: [] })).status).toBe(422);
    expect((await call('POST', `/halls/${hallId}/seats/bulk`, {})).status).toBe(422);
    const tooMany = Array.from({ length: 100_001 }, (_, i) => ({ row_number: 1, seat_number: i + 1 }));
    expect((await call('POST', `/halls/${hallId}/seats/bulk`, { seats: tooMany })).status).toBe(422);
    expect((await call('POST', `/halls/${randomUUID()}/seats/bulk`, { seats: [{ row_number: 1, seat_number: 1 }] })).status).toBe(
      404,
    );
  });
});

test('a hall never grows beyond the seat limit; the whole call is refused', async () => {
  const hallId = await newHall();
  const catalog = catalogRepository(api.db);
  const seat = (n: number) => ({ row_number: '1', seat_number: String(n), seat_type: 'standard' });
  await addSeats(catalog, ANYONE, hallId, [seat(1), seat(2)], 3);
  await expect(addSeats(catalog, ANYONE, hallId, [seat(3), seat(4)], 3)).rejects.toMatchObject({
    status: 422,
    code: 'HALL_SEAT_LIMIT',
    details: { max_seats: 3, current: 2, requested: 2 },
  });
  expect(await api.db('seats').where({ hall_id: hallId }).count({ n: '*' }).first()).toEqual({ n: 2 });
});
