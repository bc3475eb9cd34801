/**
 * Issue 10, "anyone can set prices" and "anyone can write the catalog", replayed against the event and booking
 * APIs in jwt mode (as production runs them): every write by someone without the organizer role, or by another
 * organizer, is refused and leaves nothing behind; reads stay public; the owner's own writes succeed.
 */
import { randomUUID } from 'node:crypto';
import { request } from '../support/http';
import { AttackTally, startJwtServices, user, type JwtServices } from './support/identity-support';

let services: JwtServices;
beforeAll(async () => {
  services = await startJwtServices('ownership');
});
afterAll(async () => {
  await services?.stop();
});

type Headers = Record<string, string>;
const post = (base: string, path: string, body: unknown, headers: Headers = {}) =>
  request(base, 'POST', path, { body, headers });

async function created(base: string, path: string, body: unknown, headers: Headers) {
  const response = await post(base, path, body, headers);
  if (response.status !== 201) throw new Error(`POST ${path} → ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** An organizer (its founder holds the organizer role) with a venue, seats, an event and a session. */
async function organizerWithCatalog() {
  const founder = await user(['organizer']);
  const { eventUrl } = services;
  const organizer = await created(eventUrl, '/api/v1/organizers', { name: `Org ${randomUUID().slice(0, 6)}` }, founder.headers);
  const location = await created(eventUrl, '/api/v1/locations', { name: 'Venue', organizer_id: organizer.id }, founder.headers);
  const hall = await created(eventUrl, `/api/v1/locations/${location.id}/halls`, { name: 'Hall' }, founder.headers);
  const seats = [1, 2, 3].map((n) => ({ row_number: 1, seat_number: n }));
  await created(eventUrl, `/api/v1/halls/${hall.id}/seats/bulk`, { seats }, founder.headers);
  const event = await created(eventUrl, '/api/v1/events', { title: 'Show', event_type: 'concert', organizer_id: organizer.id }, founder.headers);
  const start = Date.now() + 7 * 86_400_000;
  const session = await created(
    eventUrl,
    '/api/v1/sessions',
    { event_id: event.id, hall_id: hall.id, start_time: new Date(start).toISOString(), end_time: new Date(start + 7_200_000).toISOString(), base_price: 50 },
    founder.headers,
  );
  return { founder, organizer, location, hall, event, session };
}

async function catalogCounts() {
  const count = async (table: string) => Number((await services.eventDb(table).count({ n: '*' }).first())?.n);
  const tables = ['organizers', 'organizer_members', 'locations', 'halls', 'seats', 'events', 'sessions'];
  return Object.fromEntries(await Promise.all(tables.map(async (table) => [table, await count(table)])));
}

/** Every catalog write of the contract, aimed at the victim organizer's resources. */
function catalogWrites(victim: Awaited<ReturnType<typeof organizerWithCatalog>>) {
  const start = Date.now() + 7 * 86_400_000;
  return [
    ['/api/v1/organizers', { name: 'Attacker Org' }],
    [`/api/v1/organizers/${victim.organizer.id}/members`, { user_id: randomUUID() }],
    ['/api/v1/locations', { name: 'Attacker venue', organizer_id: victim.organizer.id }],
    [`/api/v1/locations/${victim.location.id}/halls`, { name: 'Attacker hall' }],
    ['/api/v1/halls', { location_id: victim.location.id, name: 'Attacker hall 2' }],
    [`/api/v1/halls/${victim.hall.id}/seats`, { row_number: 9, seat_number: 1 }],
    [`/api/v1/halls/${victim.hall.id}/seats/bulk`, { seats: Array.from({ length: 1000 }, (_, n) => ({ row_number: 10, seat_number: n + 1 })) }],
    ['/api/v1/events', { title: 'Fake show', event_type: 'concert', organizer_id: victim.organizer.id }],
    [
      '/api/v1/sessions',
      { event_id: victim.event.id, hall_id: victim.hall.id, start_time: new Date(start).toISOString(), end_time: new Date(start + 3_600_000).toISOString(), base_price: 1 },
    ],
  ] as const;
}

test('when nobody, a buyer, a door user or an X-User-ID header writes the catalog, then every write is refused and nothing is created', async () => {
  const victim = await organizerWithCatalog();
  const buyer = await user([]);
  const door = await user(['door']);
  const before = await catalogCounts();
  const tally = new AttackTally('catalog writes without the organizer role');
  const callers: Array<[string, Headers, number]> = [
    ['anonymous', {}, 401],
    ['impersonating header', { 'x-user-id': victim.founder.id }, 401],
    ['buyer', buyer.headers, 403],
    ['door staff', door.headers, 403],
  ];
  for (const [, headers, expected] of callers) {
    for (const [path, body] of catalogWrites(victim)) {
      const response = await post(services.eventUrl, path, body, headers);
      expect({ path, status: tally.record(response.status) }).toEqual({ path, status: expected });
      expect(response.body.error.code).toBe(expected === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN');
    }
  }
  expect(await catalogCounts()).toEqual(before);
  tally.print();
  expect(tally).toMatchObject({ tried: 36, refused: 36, lost: 0 });
});

test('when a cross-site text/plain form posts to the catalog, then it creates nothing', async () => {
  const before = await catalogCounts();
  const response = await request(services.eventUrl, 'POST', '/api/v1/organizers', {
    rawBody: JSON.stringify({ name: 'CSRF Org' }),
    headers: { 'content-type': 'text/plain' },
  });
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  expect(await catalogCounts()).toEqual(before);
});

test("when an organizer writes another organizer's catalog, then every write is refused with 403 FORBIDDEN", async () => {
  const victim = await organizerWithCatalog();
  const rival = await organizerWithCatalog();
  const before = await catalogCounts();
  const tally = new AttackTally("catalog writes into another organizer's resources");
  // The first write (founding an organizer of one's own) is allowed to any organizer: skip it here.
  for (const [path, body] of catalogWrites(victim).slice(1)) {
    const response = await post(services.eventUrl, path, body, rival.founder.headers);
    expect({ path, status: tally.record(response.status), code: response.body.error?.code }).toEqual({
      path,
      status: 403,
      code: 'FORBIDDEN',
    });
  }
  // A venue must name an organizer its creator belongs to; only an admin creates an unowned one.
  const venueless = await post(services.eventUrl, '/api/v1/locations', { name: 'Unowned' }, rival.founder.headers);
  expect(tally.record(venueless.status)).toBe(403);
  expect(await catalogCounts()).toEqual(before);
  tally.print();
  expect(tally).toMatchObject({ tried: 9, refused: 9, lost: 0 });
});

test('when a member adds a member, then the new member manages the organizer and the rest of the world still cannot', async () => {
  const { founder, organizer } = await organizerWithCatalog();
  const colleague = await user(['organizer']);
  const member = await created(services.eventUrl, `/api/v1/organizers/${organizer.id}/members`, { user_id: colleague.id }, founder.headers);
  expect(member).toMatchObject({ organizer_id: organizer.id, user_id: colleague.id, added_by: founder.id });

  const event = await post(services.eventUrl, '/api/v1/events', { title: 'By colleague', event_type: 'talk', organizer_id: organizer.id }, colleague.headers);
  expect(event.status).toBe(201);

  const members = await request(services.eventUrl, 'GET', `/api/v1/organizers/${organizer.id}/members`);
  expect(members.status).toBe(200);
  expect(members.body.map((row: { user_id: string }) => row.user_id).sort()).toEqual([founder.id, colleague.id].sort());

  const outsider = await user(['organizer']);
  const selfInvite = await post(services.eventUrl, `/api/v1/organizers/${organizer.id}/members`, { user_id: outsider.id }, outsider.headers);
  expect([selfInvite.status, selfInvite.body.error.code]).toEqual([403, 'FORBIDDEN']);
});

test('when anyone reads the catalog, then it is public', async () => {
  const { organizer, location, hall, event, session } = await organizerWithCatalog();
  for (const path of [
    `/api/v1/organizers/${organizer.id}`,
    `/api/v1/locations/${location.id}`,
    `/api/v1/halls/${hall.id}/seats`,
    `/api/v1/events/${event.id}`,
    `/api/v1/sessions/${session.id}/seat-map`,
    `/api/v1/price-tiers?session_id=${session.id}`,
  ]) {
    const base = path.startsWith('/api/v1/price-tiers') ? services.bookingUrl : services.eventUrl;
    expect({ path, status: (await request(base, 'GET', path)).status }).toEqual({ path, status: 200 });
  }
  expect((await request(services.eventUrl, 'GET', `/api/v1/locations/${location.id}`)).body.organizer_id).toBe(organizer.id);
});

test('when anyone but an admin creates a 0.0001 global price tier or prices a session it does not organize, then it is refused', async () => {
  const { founder, session } = await organizerWithCatalog();
  const rival = await organizerWithCatalog();
  const buyer = await user([]);
  const tiersBefore = Number((await services.bookingDb('price_tiers').count({ n: '*' }).first())?.n);
  const cheapGlobal = { name: 'Everything nearly free', multiplier: 0.0001 };
  const cheapSession = { ...cheapGlobal, session_id: session.id };
  const tally = new AttackTally('price tier writes by non-owners');
  const attempts: Array<[Headers, unknown, number]> = [
    [{}, cheapGlobal, 401],
    [{ 'x-user-id': founder.id }, cheapGlobal, 401],
    [buyer.headers, cheapGlobal, 403],
    [founder.headers, cheapGlobal, 403],
    [{}, cheapSession, 401],
    [buyer.headers, cheapSession, 403],
    [rival.founder.headers, cheapSession, 403],
  ];
  for (const [headers, body, expected] of attempts) {
    const response = await post(services.bookingUrl, '/api/v1/price-tiers', body, headers);
    expect(tally.record(response.status)).toBe(expected);
  }
  expect(Number((await services.bookingDb('price_tiers').count({ n: '*' }).first())?.n)).toBe(tiersBefore);
  tally.print();
  expect(tally).toMatchObject({ tried: 7, refused: 7, lost: 0 });

  const own = await post(services.bookingUrl, '/api/v1/price-tiers', { name: 'Student', multiplier: 0.8, session_id: session.id }, founder.headers);
  expect(own.status).toBe(201);
  const admin = await user(['admin']);
  const global = await post(services.bookingUrl, '/api/v1/price-tiers', { name: 'Staff', multiplier: 0.5 }, admin.headers);
  expect(global.status).toBe(201);
  const unknownSession = await post(services.bookingUrl, '/api/v1/price-tiers', { ...cheapSession, session_id: randomUUID() }, founder.headers);
  expect(unknownSession.status).toBe(404);
});

test('when jwt mode documents the APIs, then writes name the bearer scheme and reads stay unauthenticated', async () => {
  for (const [base, path] of [
    [services.eventUrl, '/api/v1/organizers'],
    [services.bookingUrl, '/api/v1/price-tiers'],
  ]) {
    const document = (await request(base, 'GET', '/openapi.json')).body;
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths[path].post.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths[path].get.security).toBeUndefined();
  }
});
