import { randomUUID } from 'node:crypto';
import type { EventApi } from '../src/entry-points/api';
import { seedEventDemoData } from '../src/data-access/demo-data';
import {
  DEMO_EVENT_ID,
  DEMO_HALL_ID,
  DEMO_LOCATION_ID,
  DEMO_ORGANIZER_ID,
  DEMO_SEAT_R1_S4_ID,
  DEMO_SEAT_R1_S5_ID,
  DEMO_SESSION_ID,
  DEMO_SESSION_SEAT_R1_S4_ID,
  DEMO_SESSION_SEAT_R1_S5_ID,
  demoSeatId,
  demoSessionSeatId,
  uuidV5,
} from '../src/data-access/demo-ids';
import { request } from '../../../test/support/http';
import { startTestApi } from './support/api';

describe('demo ids', () => {
  test('are the seed document’s where it names them, and stable name-based UUIDs elsewhere', () => {
    expect(DEMO_HALL_ID).toBe('24c9d755-b21c-42b0-b9d9-42f11e5fe6b5');
    expect(DEMO_SESSION_ID).toBe('b623792d-f564-44c4-a6cd-255b83f9a4db');
    expect(demoSeatId(1, 4)).toBe('09832325-0860-4429-9c9d-5e5325da7af1');
    expect(demoSessionSeatId(1, 4)).toBe('fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd');
    expect(demoSeatId(1, 5)).toBe('1567af4c-fe5e-4dc4-bf73-bf8bedbf3915');
    expect(demoSessionSeatId(1, 5)).toBe('42a95132-a946-4569-8bba-010ed85a5ad3');
    // RFC 4122 test vector: uuid5(DNS namespace, "www.example.com").
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(demoSeatId(3, 7)).toBe(uuidV5('seat:3:7'));
    expect(demoSeatId(3, 7)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set([DEMO_ORGANIZER_ID, DEMO_LOCATION_ID, DEMO_EVENT_ID, demoSessionSeatId(3, 7)]).size).toBe(4);
  });
});

describe('demo data', () => {
  let api: EventApi;
  beforeAll(async () => {
    api = await startTestApi();
    await seedEventDemoData(api.db);
  });
  afterAll(async () => {
    await api?.stop();
  });

  test('serves the seed document’s seat map: 10 rows of 20 seats at 100.0, row 1 seats 4 and 5 with their ids', async () => {
    const map = await request(api.url, 'GET', `/api/v1/sessions/${DEMO_SESSION_ID}/seat-map`);
    expect(map.status).toBe(200);
    expect(map.body.session_id).toBe(DEMO_SESSION_ID);
    expect(map.body.hall_id).toBe(DEMO_HALL_ID);
    expect(map.body.seats).toHaveLength(200);
    expect(map.body.seats.slice(3, 5).map(({ status: _s, reserved_until: _r, ...seat }: any) => seat)).toEqual([
      { session_seat_id: DEMO_SESSION_SEAT_R1_S4_ID, seat_id: DEMO_SEAT_R1_S4_ID, row_number: '1', seat_number: '4', price: 100.0 },
      { session_seat_id: DEMO_SESSION_SEAT_R1_S5_ID, seat_id: DEMO_SEAT_R1_S5_ID, row_number: '1', seat_number: '5', price: 100.0 },
    ]);
    expect(map.body.seats[199]).toMatchObject({ row_number: '10', seat_number: '20' });
    const hall = await request(api.url, 'GET', `/api/v1/halls/${DEMO_HALL_ID}`);
    expect(hall.body).toMatchObject({ name: 'Main Hall', capacity: 200 });
    const session = await request(api.url, 'GET', `/api/v1/sessions/${DEMO_SESSION_ID}`);
    expect(session.body).toMatchObject({ base_price: 100, seats_count: 200, hall_id: DEMO_HALL_ID, event_id: DEMO_EVENT_ID });
    expect(Date.parse(session.body.start_time)).toBeGreaterThan(Date.now());
  });

  test('seeding again changes nothing, not even a seat a demo user bought', async () => {
    const seat = demoSessionSeatId(10, 20);
    const reservationId = randomUUID();
    await api.db('session_seats').where({ id: seat }).update({ status: 'sold', reservation_id: reservationId });
    const before = await api.db('sessions').where({ id: DEMO_SESSION_ID }).first();
    // Only the demo rows: other suites may be adding their own catalog data to the test database meanwhile.
    const counts = async () =>
      Promise.all([
        api.db('organizers').where({ id: DEMO_ORGANIZER_ID }).count({ n: '*' }).first(),
        api.db('locations').where({ id: DEMO_LOCATION_ID }).count({ n: '*' }).first(),
        api.db('halls').where({ location_id: DEMO_LOCATION_ID }).count({ n: '*' }).first(),
        api.db('seats').where({ hall_id: DEMO_HALL_ID }).count({ n: '*' }).first(),
        api.db('events').where({ organizer_id: DEMO_ORGANIZER_ID }).count({ n: '*' }).first(),
        api.db('sessions').where({ hall_id: DEMO_HALL_ID }).count({ n: '*' }).first(),
        api.db('session_seats').where({ session_id: DEMO_SESSION_ID }).count({ n: '*' }).first(),
      ]);
    const countsBefore = await counts();

    await seedEventDemoData(api.db);
    await seedEventDemoData(api.db);

    expect(await counts()).toEqual(countsBefore);
    expect(await api.db('sessions').where({ id: DEMO_SESSION_ID }).first()).toEqual(before);
    expect(await api.db('session_seats').where({ id: seat }).first()).toMatchObject({ status: 'sold', reservation_id: reservationId });
    await api.db('session_seats').where({ id: seat, reservation_id: reservationId }).update({ status: 'available', reservation_id: null });
  });
});
