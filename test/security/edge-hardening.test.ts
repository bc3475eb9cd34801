/**
 * Issue 10, "5xx for client input" and the missing browser protections, replayed as an attacker would
 * against the real services (event and booking API, real Postgres and Redis): each must be refused with a 4xx,
 * change nothing, and no answer may be a 5xx.
 */
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createLogger, createMetricsRegistry, startHttpServer, type Knex, type RunningServer } from '@ticketing/platform';
import { createEventApp } from '../../services/event-service/src/entry-points/api';
import { resolveEventConfig } from '../../services/event-service/src/config';
import { openEventDatabase } from '../../services/event-service/src/data-access/database';
import type { RunningBookingApi } from '../../services/booking-service/src/entry-points/api';
import type { EventApi } from '../../services/event-service/src/entry-points/api';
import {
  createTestSession,
  eventTestDatabase,
  newUser,
  seatStates,
  startBookingSide,
  startEventSide,
  stopBookingSide,
} from '../../services/booking-service/test/support/harness';
import { EVENT_TEST_DATABASE_URL, silentLogLevel } from '../support/infra';
import { request } from '../support/http';

const jsonOf = (response: Response): Promise<any> => response.json();

const ALLOWED_ORIGIN = 'https://box-office.example.com';

let event: EventApi;
let booking: RunningBookingApi;
let eventDb: Knex;

beforeAll(async () => {
  event = await startEventSide();
  booking = await startBookingSide(event.url, { CORS_ALLOWED_ORIGINS: ALLOWED_ORIGIN as never });
  eventDb = eventTestDatabase();
});

afterAll(async () => {
  await stopBookingSide(booking);
  await event?.stop();
  await eventDb?.destroy();
});

type JsonSchema = { type?: string | string[]; properties?: Record<string, JsonSchema>; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[] };
type Path = (string | number)[];

/** A body shaped like `schema` whose strings are all 'x' (valid or not: the NUL check runs first), and the paths of those strings. */
function sampleOf(schema: JsonSchema, path: Path = [], strings: Path[] = []): unknown {
  const options = schema.anyOf ?? schema.oneOf;
  if (options) {
    const choice = options.find((option) => option.type === 'string') ?? options.find((option) => option.type !== 'null') ?? options[0];
    return sampleOf(choice, path, strings);
  }
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, property]) => [key, sampleOf(property, [...path, key], strings)]));
    case 'array':
      return [sampleOf(schema.items ?? {}, [...path, 0], strings)];
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    default:
      strings.push(path);
      return 'x';
  }
}

function withValueAt(body: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return copy;
}

interface Tally {
  tried: number;
  refused: number;
  serverErrors: number;
}

/** Every write operation of the service's OpenAPI document, with each string field (one at a time) carrying a NUL. */
async function replayNulInEveryStringField(baseUrl: string, headers: Record<string, string>) {
  const document = (await request(baseUrl, 'GET', '/openapi.json')).body;
  const tally: Tally & { operations: number; notRefused: string[] } = { tried: 0, refused: 0, serverErrors: 0, operations: 0, notRefused: [] };
  for (const [template, operations] of Object.entries<Record<string, { requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!['post', 'put', 'patch'].includes(method) || !operation.requestBody) continue;
      tally.operations += 1;
      const path = template.replace(/\{[^}]+\}/g, () => randomUUID());
      const strings: Path[] = [];
      const body = sampleOf(operation.requestBody.content['application/json'].schema, [], strings);
      for (const field of strings) {
        const response = await request(baseUrl, method.toUpperCase(), path, { headers, body: withValueAt(body, field, 'evil\u0000value') });
        tally.tried += 1;
        const nulNamed = JSON.stringify(response.body).includes('must not contain NUL characters');
        if (response.status >= 500) tally.serverErrors += 1;
        if (response.status === 422 && nulNamed) tally.refused += 1;
        else tally.notRefused.push(`${method.toUpperCase()} ${template} ${field.join('.')}: ${response.status}`);
      }
    }
  }
  return tally;
}

describe('NUL bytes in string fields (issue 10: 500 from Postgres)', () => {
  test('when every string field of every write route carries a NUL, then each is refused with 422 at validation and none is a 5xx', async () => {
    const user = newUser();
    const results = {
      event: await replayNulInEveryStringField(event.url, {}),
      booking: await replayNulInEveryStringField(booking.url, { 'x-user-id': user }),
    };
    for (const [service, tally] of Object.entries(results)) {
      console.log(
        `NUL replay ${service}: ${tally.operations} write routes, tried ${tally.tried}, refused ${tally.refused}, 5xx ${tally.serverErrors}, lost ${tally.tried - tally.refused}`,
      );
      expect(tally.notRefused).toEqual([]);
      expect(tally.serverErrors).toBe(0);
      expect(tally.tried).toBeGreaterThan(tally.operations);
    }
    // The issue's own examples: a NUL in a name and in a payment id.
    expect(results.event.tried).toBeGreaterThanOrEqual(20);
    expect(results.booking.tried).toBeGreaterThanOrEqual(5);
  });

  test('when a NUL is in a query string or a path id, then 4xx', async () => {
    const query = await request(event.url, 'GET', '/api/v1/events?organizer_id=%00');
    expect(query.status).toBe(422);
    const pathId = await request(booking.url, 'GET', `/api/v1/reservations/${randomUUID()}%00`, { headers: { 'x-user-id': newUser() } });
    expect(pathId.status).toBe(404);
  });
});

describe('session seat ids in upper case (issue 10: 5xx, and 502 for the same seat twice)', () => {
  test('when a buyer sends an upper-case session_seat_id, then the seat is held under its lower-case id', async () => {
    const { sessionId, seatIds } = await createTestSession(event.url, { seats: 2 });
    const response = await request(booking.url, 'POST', '/api/v1/reservations', {
      headers: { 'x-user-id': newUser() },
      body: { session_id: sessionId.toUpperCase(), seats: [{ session_seat_id: seatIds[0].toUpperCase() }] },
    });
    expect(response.status).toBe(201);
    expect(response.body.items.map((item: { session_seat_id: string }) => item.session_seat_id)).toEqual([seatIds[0]]);
    expect((await seatStates(eventDb, [seatIds[0]])).get(seatIds[0])).toMatchObject({ status: 'reserved', reservation_id: response.body.id });
  });

  test('when the same seat comes twice in different letter case, then 422 and nothing is held', async () => {
    const { sessionId, seatIds } = await createTestSession(event.url, { seats: 2 });
    const response = await request(booking.url, 'POST', '/api/v1/reservations', {
      headers: { 'x-user-id': newUser() },
      body: { session_id: sessionId, seats: [{ session_seat_id: seatIds[1] }, { session_seat_id: seatIds[1].toUpperCase() }] },
    });
    expect([response.status, response.body.error.code]).toEqual([422, 'VALIDATION_ERROR']);
    expect(JSON.stringify(response.body.error.details)).toContain('duplicate session_seat_id');
    expect((await seatStates(eventDb, [seatIds[1]])).get(seatIds[1])).toMatchObject({ status: 'available', reservation_id: null });
  });
});

describe('bodies that are not JSON (issue 10: a cross-site text/plain POST created an organizer)', () => {
  const organizersNamed = async (name: string) => Number((await eventDb('organizers').where({ name }).count({ n: '*' }))[0].n);

  test('when a text/plain or form body is posted, then 415 and nothing is created', async () => {
    const name = `csrf-${randomUUID()}`;
    const attempts = [
      { type: 'text/plain', body: JSON.stringify({ name }) },
      { type: 'text/plain;charset=UTF-8', body: JSON.stringify({ name }) },
      { type: 'application/x-www-form-urlencoded', body: `name=${name}` },
      { type: 'multipart/form-data; boundary=b', body: `--b\r\nContent-Disposition: form-data; name="name"\r\n\r\n${name}\r\n--b--` },
    ];
    let refused = 0;
    for (const attempt of attempts) {
      const response = await fetch(`${event.url}/api/v1/organizers`, {
        method: 'POST',
        headers: { 'content-type': attempt.type, origin: 'https://evil.example' },
        body: attempt.body,
      });
      if (response.status === 415 && (await jsonOf(response)).error.code === 'UNSUPPORTED_MEDIA_TYPE') refused += 1;
    }
    const confirm = await fetch(`${booking.url}/api/v1/reservations/${randomUUID()}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-user-id': newUser() },
      body: JSON.stringify({ payment_id: 'p' }),
    });
    if (confirm.status === 415) refused += 1;
    console.log(`non-JSON bodies: tried ${attempts.length + 1}, refused ${refused}, organizers created ${await organizersNamed(name)}`);
    expect(refused).toBe(attempts.length + 1);
    expect(await organizersNamed(name)).toBe(0);
  });

  test('when Content-Encoding: gzip comes with a plain body, then 400; a real gzip body is accepted', async () => {
    const name = `gzip-${randomUUID()}`;
    const plain = await fetch(`${event.url}/api/v1/organizers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: JSON.stringify({ name }),
    });
    expect([plain.status, (await jsonOf(plain)).error.code]).toEqual([400, 'MALFORMED_BODY']);
    const gzipped = await fetch(`${event.url}/api/v1/organizers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ name })),
    });
    expect(gzipped.status).toBe(201);
    expect(await organizersNamed(name)).toBe(1);
  });
});

describe('browser protections (issue 10: no nosniff/frame/CSP headers, CORS)', () => {
  test('when either service answers (data, error, docs, probes), then nosniff, frame-ancestors none, DENY and no-referrer are set', async () => {
    const urls = [
      `${event.url}/api/v1/organizers`,
      `${event.url}/api/v1/organizers/${randomUUID()}`,
      `${event.url}/docs`,
      `${event.url}/health`,
      `${booking.url}/api/v1/reservations`,
      `${booking.url}/docs`,
      `${booking.url}/openapi.json`,
    ];
    for (const url of urls) {
      const response = await fetch(url);
      const headers = Object.fromEntries(['x-content-type-options', 'x-frame-options', 'referrer-policy'].map((name) => [name, response.headers.get(name)]));
      expect({ url, ...headers }).toEqual({ url, 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });

  test('when an unknown origin preflights a reservation, then 403; a listed origin gets 204 and may read answers', async () => {
    const preflight = (origin: string) =>
      fetch(`${booking.url}/api/v1/reservations`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-user-id' },
      });
    const unknown = await preflight('https://evil.example');
    expect(unknown.status).toBe(403);
    expect(unknown.headers.get('access-control-allow-origin')).toBeNull();
    const listed = await preflight(ALLOWED_ORIGIN);
    expect(listed.status).toBe(204);
    expect(listed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(listed.headers.get('access-control-allow-headers')).toContain('X-User-ID');
    // The event service runs with the default (no origins): CORS is off.
    const eventPreflight = await fetch(`${event.url}/api/v1/organizers`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(eventPreflight.status).toBe(403);
  });
});

describe('production documentation (issue 10: the production Swagger listed /api/internal/*, including the sell route)', () => {
  let server: RunningServer;
  let db: Knex;

  beforeAll(async () => {
    const config = { ...resolveEventConfig({ DATABASE_URL: EVENT_TEST_DATABASE_URL, LOG_LEVEL: silentLogLevel as never }), NODE_ENV: 'production' as const };
    db = openEventDatabase(EVENT_TEST_DATABASE_URL, 2);
    const app = createEventApp({ db, config, logger: createLogger('event-service', 'silent'), registry: createMetricsRegistry('event-service') });
    server = await startHttpServer(app, 0, '127.0.0.1');
  });
  afterAll(async () => {
    await server?.close(1000);
    await db?.destroy();
  });

  test('when NODE_ENV=production, then /openapi.json has no /api/internal path and /docs reads that document', async () => {
    const document = (await request(server.url, 'GET', '/openapi.json')).body;
    const paths = Object.keys(document.paths);
    expect(paths).toContain('/api/v1/sessions/{id}/seat-map');
    expect(paths.filter((path) => path.startsWith('/api/internal'))).toEqual([]);
    expect(JSON.stringify(document)).not.toContain('seats/confirm');
    const docs = await (await fetch(`${server.url}/docs`)).text();
    expect(docs).toContain('/openapi.json');
    // Development still documents them for whoever builds the booking side.
    const development = (await request(event.url, 'GET', '/openapi.json')).body;
    expect(Object.keys(development.paths)).toContain('/api/internal/sessions/{id}/seats/confirm');
  });
});
