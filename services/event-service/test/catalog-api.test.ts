import { randomUUID } from 'node:crypto';
import type { EventApi } from '../src/entry-points/api';
import { request } from '../../../test/support/http';
import { buildCatalog, startTestApi } from './support/api';

let api: EventApi;
const call = (method: string, path: string, body?: unknown) => request(api.url, method, `/api/v1${path}`, { body });
const fieldsOf = (response: { body: any }) => response.body.error.details.fields.map((f: { field: string }) => f.field);

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stop();
});

describe('organizers', () => {
  test('are created, read and listed', async () => {
    const created = await call('POST', '/organizers', {
      name: '  Riverside Concerts ',
      description: 'Orchestral evenings',
      contact_email: 'box@example.com',
      contact_phone: '+1 555 0100',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Riverside Concerts',
      description: 'Orchestral evenings',
      contact_email: 'box@example.com',
      contact_phone: '+1 555 0100',
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.any(String),
    });
    expect((await call('GET', `/organizers/${created.body.id}`)).body).toEqual(created.body);
    const page = await call('GET', '/organizers?limit=2&offset=0');
    expect(page.status).toBe(200);
    expect(Array.isArray(page.body)).toBe(true);
    expect(page.body.length).toBeLessThanOrEqual(2);
  });

  test('reject missing names, bad e-mails, unknown fields and control characters with 422', async () => {
    const missing = await call('POST', '/organizers', { description: 'x' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.code).toBe('VALIDATION_ERROR');
    expect(fieldsOf(missing)).toContain('body.name');
    expect(fieldsOf(await call('POST', '/organizers', { name: 'x', contact_email: 'not-an-email' }))).toContain(
      'body.contact_email',
    );
    expect(fieldsOf(await call('POST', '/organizers', { name: 'x', nmae: 'typo' }))).toContain('body');
    expect((await call('POST', '/organizers', { name: 'nul\u0000byte' })).status).toBe(422);
    expect((await call('POST', '/organizers', { name: 'x'.repeat(201) })).status).toBe(422);
  });

  test('unknown and malformed ids are 404', async () => {
    const unknown = await call('GET', `/organizers/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await call('GET', '/organizers/not-a-uuid')).status).toBe(404);
  });

  test('pagination is bounded', async () => {
    expect((await call('GET', '/organizers?limit=501')).status).toBe(422);
    expect((await call('GET', '/organizers?limit=0')).status).toBe(422);
    expect((await call('GET', '/organizers?offset=-1')).status).toBe(422);
    expect((await call('GET', '/organizers?limit=abc')).status).toBe(422);
  });
});

describe('locations and halls', () => {
  test('a location defaults to UTC and rejects unknown time zones', async () => {
    const created = await call('POST', '/locations', { name: 'Venue', address: '1 Main St', city: 'Lviv', country: 'UA' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Venue', timezone: 'UTC', city: 'Lviv', country: 'UA' });
    expect((await call('GET', `/locations/${created.body.id}`)).body.id).toBe(created.body.id);
    expect((await call('GET', '/locations?limit=1')).body).toHaveLength(1);
    const bad = await call('POST', '/locations', { name: 'Venue', timezone: 'Mars/Olympus' });
    expect(bad.status).toBe(422);
    expect(fieldsOf(bad)).toEqual(['body.timezone']);
    expect((await call('GET', `/locations/${randomUUID()}`)).status).toBe(404);
  });

  test('halls are created under a location or with location_id, and listed per location', async () => {
    const location = (await call('POST', '/locations', { name: 'Venue' })).body;
    const nested = await call('POST', `/locations/${location.id}/halls`, { name: 'Main Hall', capacity: 200 });
    expect(nested.status).toBe(201);
    expect(nested.body).toMatchObject({ location_id: location.id, name: 'Main Hall', capacity: 200 });
    const flat = await call('POST', '/halls', { location_id: location.id, name: 'Studio' });
    expect(flat.status).toBe(201);
    expect(flat.body.capacity).toBeNull();

    const listed = await call('GET', `/locations/${location.id}/halls`);
    expect(listed.body.map((h: { name: string }) => h.name)).toEqual(['Main Hall', 'Studio']);
    expect((await call('GET', `/halls?location_id=${location.id}&limit=1&offset=1`)).body.map((h: any) => h.name)).toEqual([
      'Studio',
    ]);
    expect((await call('GET', `/halls/${nested.body.id}`)).body).toEqual(nested.body);
  });

  test('hall errors: unknown location 404, negative capacity 422, unknown hall 404', async () => {
    expect((await call('POST', `/locations/${randomUUID()}/halls`, { name: 'H' })).status).toBe(404);
    expect((await call('POST', '/halls', { location_id: randomUUID(), name: 'H' })).status).toBe(404);
    expect((await call('GET', `/locations/${randomUUID()}/halls`)).status).toBe(404);
    const location = (await call('POST', '/locations', { name: 'Venue' })).body;
    expect((await call('POST', `/locations/${location.id}/halls`, { name: 'H', capacity: -1 })).status).toBe(422);
    expect((await call('POST', `/locations/${location.id}/halls`, { name: 'H', capacity: 1.5 })).status).toBe(422);
    expect((await call('GET', `/halls/${randomUUID()}`)).status).toBe(404);
  });
});

describe('seats', () => {
  let hallId: string;
  beforeAll(async () => {
    const location = (await call('POST', '/locations', { name: 'Venue' })).body;
    hallId = (await call('POST', `/locations/${location.id}/halls`, { name: 'H' })).body.id;
  });

  test('one seat is added with numbers accepted as strings, and a repeat is a 409', async () => {
    const created = await call('POST', `/halls/${hallId}/seats`, { row_number: 3, seat_number: '12', seat_type: 'VIP' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ hall_id: hallId, row_number: '3', seat_number: '12', seat_type: 'vip' });
    const again = await call('POST', `/halls/${hallId}/seats`, { row_number: '3', seat_number: 12 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'SEAT_EXISTS',
      details: { existing: [{ row_number: '3', seat_number: '12', seat_type: 'vip' }] },
    });
  });

  test('seat labels and types are validated', async () => {
    for (const body of [
      { row_number: '', seat_number: '1' },
      { row_number: '1' },
      { row_number: '1', seat_number: -1 },
      { row_number: '1', seat_number: 1.5 },
      { row_number: '<script>', seat_number: '1' },
      { row_number: '1', seat_number: 'x'.repeat(17) },
      { row_number: '1', seat_number: '1', seat_type: 'a b' },
      { row_number: '1', seat_number: '1', extra: true },
    ]) {
      expect({ body, status: (await call('POST', `/halls/${hallId}/seats`, body)).status }).toEqual({ body, status: 422 });
    }
    expect((await call('POST', `/halls/${randomUUID()}/seats`, { row_number: '1', seat_number: '1' })).status).toBe(404);
  });

  test('are listed row by row in numeric-aware order, paginated', async () => {
    const location = (await call('POST', '/locations', { name: 'Venue' })).body;
    const hall = (await call('POST', `/locations/${location.id}/halls`, { name: 'H' })).body;
    await call('POST', `/halls/${hall.id}/seats/bulk`, {
      seats: [
        { row_number: '10', seat_number: '1' },
        { row_number: '2', seat_number: '10' },
        { row_number: '2', seat_number: '2' },
      ],
    });
    const listed = await call('GET', `/halls/${hall.id}/seats`);
    expect(listed.body.map((s: any) => `${s.row_number}-${s.seat_number}`)).toEqual(['2-2', '2-10', '10-1']);
    const second = await call('GET', `/halls/${hall.id}/seats?limit=1&offset=1`);
    expect(second.body.map((s: any) => `${s.row_number}-${s.seat_number}`)).toEqual(['2-10']);
    expect((await call('GET', `/halls/${randomUUID()}/seats`)).status).toBe(404);
  });
});

describe('events', () => {
  test('belong to an existing organizer and are listed per organizer', async () => {
    const organizer = (await call('POST', '/organizers', { name: 'O' })).body;
    const created = await call('POST', '/events', {
      title: 'Symphony',
      description: 'Evening',
      event_type: 'concert',
      organizer_id: organizer.id,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: 'Symphony', event_type: 'concert', organizer_id: organizer.id });
    expect((await call('GET', `/events/${created.body.id}`)).body).toEqual(created.body);
    expect((await call('GET', `/events?organizer_id=${organizer.id}`)).body).toEqual([created.body]);

    expect((await call('POST', '/events', { title: 'X', event_type: 'concert', organizer_id: randomUUID() })).status).toBe(404);
    expect((await call('POST', '/events', { title: 'X', organizer_id: organizer.id })).status).toBe(422);
    expect((await call('GET', `/events/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', `/events?organizer_id=${randomUUID()}`)).status).toBe(404);
  });
});

describe('sessions', () => {
  let catalog: Awaited<ReturnType<typeof buildCatalog>>;
  const start = '2031-05-01T19:00:00.000Z';
  const end = '2031-05-01T21:00:00.000Z';
  beforeAll(async () => {
    catalog = await buildCatalog(api.url, {
      seats: [
        { row_number: 1, seat_number: 1 },
        { row_number: 1, seat_number: 2, seat_type: 'vip' },
        { row_number: 2, seat_number: 1 },
      ],
    });
  });

  test('creating one copies every hall seat, priced by base price and seat type multiplier', async () => {
    const created = await call('POST', '/sessions', {
      event_id: catalog.event.id,
      hall_id: catalog.hall.id,
      start_time: '2031-05-01T22:00:00+03:00',
      end_time: end,
      base_price: 49.99,
      seat_type_multipliers: { vip: 1.5 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      event_id: catalog.event.id,
      hall_id: catalog.hall.id,
      start_time: start,
      end_time: end,
      base_price: 49.99,
      seats_count: 3,
    });
    expect((await call('GET', `/sessions/${created.body.id}`)).body).toEqual(created.body);
    const seats = await call('GET', `/sessions/${created.body.id}/seats`);
    expect(seats.body.map((s: any) => [s.row_number, s.seat_number, s.seat_type, s.price, s.status])).toEqual([
      ['1', '1', 'standard', 49.99, 'available'],
      ['1', '2', 'vip', 74.99, 'available'],
      ['2', '1', 'standard', 49.99, 'available'],
    ]);
    expect(seats.body[0]).toEqual({
      id: expect.any(String),
      session_seat_id: seats.body[0].id,
      session_id: created.body.id,
      seat_id: expect.any(String),
      row_number: '1',
      seat_number: '1',
      seat_type: 'standard',
      price: 49.99,
      status: 'available',
      reserved_until: null,
      updated_at: expect.any(String),
    });
    // The seat map's name for the same id, so clients written for the original system can hold these seats.
    const map = await call('GET', `/sessions/${created.body.id}/seat-map`);
    expect(seats.body.map((s: any) => s.session_seat_id)).toEqual(map.body.seats.map((s: any) => s.session_seat_id));
    expect((await call('GET', `/sessions/${created.body.id}/seats?limit=1&offset=2`)).body).toHaveLength(1);
    expect((await call('GET', `/sessions?event_id=${catalog.event.id}`)).body.map((s: any) => s.id)).toContain(
      created.body.id,
    );
    expect((await call('GET', `/sessions?hall_id=${catalog.hall.id}&limit=500`)).status).toBe(200);
  });

  test('need an existing event and hall (404)', async () => {
    const body = { event_id: catalog.event.id, hall_id: catalog.hall.id, start_time: start, end_time: end, base_price: 10 };
    expect((await call('POST', '/sessions', { ...body, event_id: randomUUID() })).status).toBe(404);
    expect((await call('POST', '/sessions', { ...body, hall_id: randomUUID() })).status).toBe(404);
    expect((await call('GET', `/sessions/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', `/sessions/${randomUUID()}/seats`)).status).toBe(404);
    expect((await call('GET', `/sessions?event_id=${randomUUID()}`)).status).toBe(404);
  });

  test('validate times and prices (422)', async () => {
    const body = { event_id: catalog.event.id, hall_id: catalog.hall.id, start_time: start, end_time: end, base_price: 10 };
    const backwards = await call('POST', '/sessions', { ...body, end_time: start });
    expect(backwards.status).toBe(422);
    expect(fieldsOf(backwards)).toEqual(['body.end_time']);
    for (const bad of [
      { base_price: -1 },
      { base_price: 10.005 },
      { base_price: '10.00' },
      { base_price: 1e12 },
      { start_time: 'tomorrow' },
      { start_time: '2031-05-01T19:00:00' },
      { seat_type_multipliers: { vip: 0 } },
      { seat_type_multipliers: { 'v i p': 2 } },
    ]) {
      expect({ bad, status: (await call('POST', '/sessions', { ...body, ...bad })).status }).toEqual({ bad, status: 422 });
    }
    expect((await call('POST', '/sessions', { ...body, start_time: '2031-02-30T19:00:00Z' })).status).toBe(422);
    const overflow = await call('POST', '/sessions', {
      ...body,
      base_price: 9_999_999_999.99,
      seat_type_multipliers: { standard: 2 },
    });
    expect(overflow.status).toBe(422);
    expect(fieldsOf(overflow)).toEqual(['body.seat_type_multipliers']);
  });

  test('a hall without seats cannot get a session', async () => {
    const hall = (await call('POST', `/locations/${catalog.location.id}/halls`, { name: 'Empty' })).body;
    const response = await call('POST', '/sessions', {
      event_id: catalog.event.id,
      hall_id: hall.id,
      start_time: start,
      end_time: end,
      base_price: 10,
    });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('HALL_HAS_NO_SEATS');
  });
});

describe('the HTTP surface', () => {
  test('malformed JSON is 400, unknown routes 404 and wrong methods 405, all as JSON errors', async () => {
    const malformed = await request(api.url, 'POST', '/api/v1/organizers', { rawBody: '{"name":' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const unknown = await call('GET', '/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    const wrongMethod = await call('DELETE', '/organizers');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error).toBeDefined();
  });

  test('a body over the limit is 413', async () => {
    const response = await request(api.url, 'POST', '/api/v1/organizers', {
      rawBody: JSON.stringify({ name: 'x', description: 'y'.repeat(1_100_000) }),
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  test('serves health, readiness, metrics, the OpenAPI document and Swagger UI', async () => {
    expect((await request(api.url, 'GET', '/health')).body).toMatchObject({ status: 'ok', service: 'event-service' });
    const ready = await request(api.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks.database.status).toBe('up');
    expect((await request<string>(api.url, 'GET', '/metrics')).body).toContain('http_request_duration_seconds');
    const docs = await request<string>(api.url, 'GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('swagger');

    const openapi = (await request(api.url, 'GET', '/openapi.json')).body;
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/organizers',
        '/api/v1/organizers/{id}',
        '/api/v1/locations',
        '/api/v1/locations/{id}',
        '/api/v1/locations/{location_id}/halls',
        '/api/v1/halls',
        '/api/v1/halls/{id}',
        '/api/v1/halls/{hall_id}/seats',
        '/api/v1/halls/{hall_id}/seats/bulk',
        '/api/v1/events',
        '/api/v1/events/{id}',
        '/api/v1/sessions',
        '/api/v1/sessions/{id}',
        '/api/v1/sessions/{id}/seats',
        '/api/v1/sessions/{id}/seat-map',
        '/api/internal/health',
        '/api/internal/sessions/{id}/seats/check-availability',
        '/api/internal/sessions/{id}/pricing',
        '/api/internal/sessions/{id}/seats/reserve',
        '/api/internal/sessions/{id}/seats/release',
        '/api/internal/sessions/{id}/seats/confirm',
      ]),
    );
    expect(openapi.components.securitySchemes.internalToken).toEqual({
      type: 'apiKey',
      in: 'header',
      name: 'X-Internal-Token',
    });
    expect(openapi.paths['/api/internal/sessions/{id}/seats/reserve'].post.security).toEqual([{ internalToken: [] }]);
    expect(openapi.paths['/api/v1/organizers'].post.security).toBeUndefined();
    const bulkItems = openapi.paths['/api/v1/halls/{hall_id}/seats/bulk'].post.requestBody.content['application/json'].schema
      .properties.seats.items;
    expect(bulkItems.required).toEqual(['row_number', 'seat_number']);
  });
});
