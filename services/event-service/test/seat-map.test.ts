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

const seatMap = (sessionId: string, headers: Record<string, string> = {}) =>
  request(api.url, 'GET', `/api/v1/sessions/${sessionId}/seat-map`, { headers });

describe('the seat map', () => {
  test('lists every seat in the seed shape, row by row, numbers in numeric order and letter rows after', async () => {
    const labels = [
      ['10', '1'],
      ['2', '10'],
      ['2', '2'],
      ['A', '1'],
      ['2', '1'],
      ['1', '3'],
    ];
    const { session, hall } = await buildCatalog(api.url, {
      seats: labels.map(([row, seat]) => ({ row_number: row, seat_number: seat })),
      basePrice: 100,
    });
    const response = await seatMap(session.id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(response.body)).toEqual(['session_id', 'hall_id', 'seats']);
    expect(response.body.session_id).toBe(session.id);
    expect(response.body.hall_id).toBe(hall.id);
    expect(response.body.seats.map((s: any) => `${s.row_number}/${s.seat_number}`)).toEqual([
      '1/3',
      '2/1',
      '2/2',
      '2/10',
      '10/1',
      'A/1',
    ]);
    expect(response.body.seats[0]).toEqual({
      session_seat_id: expect.any(String),
      seat_id: expect.any(String),
      row_number: '1',
      seat_number: '3',
      price: 100.0,
      status: 'available',
      reserved_until: null,
    });
  });

  test('answers 304 to a matching If-None-Match, and a hold changes the ETag', async () => {
    const { session } = await buildCatalog(api.url);
    const first = await seatMap(session.id);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');

    const unchanged = await seatMap(session.id, { 'If-None-Match': etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBe('');
    expect(unchanged.headers.get('etag')).toBe(etag);
    expect((await seatMap(session.id, { 'If-None-Match': `W/${etag}` })).status).toBe(304);

    const target = first.body.seats[1].session_seat_id;
    const reservedUntil = new Date(Date.now() + 600_000);
    const hold = await request(api.url, 'POST', `/api/internal/sessions/${session.id}/seats/reserve`, {
      body: { reservation_id: randomUUID(), session_seat_ids: [target], reserved_until: reservedUntil.toISOString() },
    });
    expect(hold.status).toBe(200);

    const changed = await seatMap(session.id, { 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.body.seats[1]).toMatchObject({
      session_seat_id: target,
      status: 'reserved',
      reserved_until: reservedUntil.toISOString(),
    });
  });

  test('an unknown session is 404 and a malformed id is 404', async () => {
    const unknown = await seatMap(randomUUID());
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await seatMap('b623792d')).status).toBe(404);
  });
});
