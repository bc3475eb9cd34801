import { randomUUID } from 'node:crypto';
import type { EventApi } from '../src/entry-points/api';
import { request } from '../../../test/support/http';
import { buildCatalog, startTestApi } from './support/api';

let api: EventApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

/** The SQL statements the API sends to Postgres while `work` runs. */
async function statementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const onQuery = (query: { sql: string }) => statements.push(query.sql);
  api.db.on('query', onQuery);
  try {
    await work();
  } finally {
    api.db.removeListener('query', onQuery);
  }
  return statements;
}

const reserve = (sessionId: string, reservationId: string, seatIds: string[]) =>
  request(api.url, 'POST', `/api/internal/sessions/${sessionId}/seats/reserve`, {
    body: { reservation_id: reservationId, session_seat_ids: seatIds, reserved_until: new Date(Date.now() + 600_000).toISOString() },
  });

describe('a hold in one round trip', () => {
  test('a successful hold, a repeat and a refused hold each send one statement; a refusal changes nothing', async () => {
    const { session } = await buildCatalog(api.url);
    const map = await request(api.url, 'GET', `/api/v1/sessions/${session.id}/seat-map`);
    const [a, b, c] = map.body.seats.map((seat: any) => seat.session_seat_id);
    const first = randomUUID();

    let response;
    const held = await statementsDuring(async () => {
      response = await reserve(session.id, first, [a, b]);
    });
    expect(response!.status).toBe(200);
    expect(held).toHaveLength(1);
    expect(held.filter((sql) => /^\s*(begin|commit)/i.test(sql))).toEqual([]);

    const repeated = await statementsDuring(async () => {
      response = await reserve(session.id, first, [b, a]);
    });
    expect(response!.status).toBe(200);
    expect(repeated).toHaveLength(1);

    const refused = await statementsDuring(async () => {
      response = await reserve(session.id, randomUUID(), [c, b]);
    });
    expect(response!.status).toBe(409);
    expect(response!.body.error.details.unavailable).toEqual([{ session_seat_id: b, status: 'reserved' }]);
    expect(refused).toHaveLength(1);

    const { rows } = await api.db.raw(`SELECT id, status, reservation_id FROM session_seats WHERE id = ANY(?::uuid[])`, [[a, b, c]]);
    const byId = new Map(rows.map((row: any) => [row.id, row]));
    expect(byId.get(a)).toMatchObject({ status: 'reserved', reservation_id: first });
    expect(byId.get(b)).toMatchObject({ status: 'reserved', reservation_id: first });
    expect(byId.get(c)).toMatchObject({ status: 'available', reservation_id: null });
  });

  test('an unknown session is 404 and a started session is 409 SESSION_STARTED, in one statement each', async () => {
    let response;
    const unknown = await statementsDuring(async () => {
      response = await reserve(randomUUID(), randomUUID(), [randomUUID()]);
    });
    expect(response!.status).toBe(404);
    expect(unknown).toHaveLength(1);

    const { session } = await buildCatalog(api.url, { startsInMs: -60_000 });
    const map = await request(api.url, 'GET', `/api/v1/sessions/${session.id}/seat-map`);
    const seat = map.body.seats[0].session_seat_id;
    const started = await statementsDuring(async () => {
      response = await reserve(session.id, randomUUID(), [seat]);
    });
    expect(response!.status).toBe(409);
    expect(response!.body.error.code).toBe('SESSION_STARTED');
    expect(started).toHaveLength(1);
    const { rows } = await api.db.raw(`SELECT status FROM session_seats WHERE id = ?`, [seat]);
    expect(rows[0].status).toBe('available');
  });
});
