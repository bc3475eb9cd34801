/**
 * Issue 15 under verified identity (jwt mode, as production runs): only the session's organizer (or an admin)
 * turns its waiting room on, changes or closes it; buyers and other organizers are refused and change nothing.
 */
import { randomUUID } from 'node:crypto';
import { request } from '../support/http';
import { startJwtServices, user, type JwtServices } from './support/identity-support';

let services: JwtServices;
beforeAll(async () => {
  services = await startJwtServices('waiting_room_ownership');
});
afterAll(async () => {
  await services?.stop();
});

async function created(path: string, body: unknown, headers: Record<string, string>) {
  const response = await request(services.eventUrl, 'POST', path, { body, headers });
  if (response.status !== 201) throw new Error(`POST ${path} → ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

async function sessionOf(founder: { headers: Record<string, string> }) {
  const organizer = await created('/api/v1/organizers', { name: `Org ${randomUUID().slice(0, 6)}` }, founder.headers);
  const location = await created('/api/v1/locations', { name: 'Venue', organizer_id: organizer.id }, founder.headers);
  const hall = await created(`/api/v1/locations/${location.id}/halls`, { name: 'Hall' }, founder.headers);
  await created(`/api/v1/halls/${hall.id}/seats/bulk`, { seats: [{ row_number: 1, seat_number: 1 }] }, founder.headers);
  const event = await created('/api/v1/events', { title: 'Show', event_type: 'concert', organizer_id: organizer.id }, founder.headers);
  const start = Date.now() + 7 * 86_400_000;
  return created(
    '/api/v1/sessions',
    { event_id: event.id, hall_id: hall.id, start_time: new Date(start).toISOString(), end_time: new Date(start + 7_200_000).toISOString(), base_price: 50 },
    founder.headers,
  );
}

const settings = { opens_at: new Date(Date.now() + 3_600_000).toISOString(), admission_rate_per_second: 10, hold_window_seconds: 60 };

test('when a buyer or another organizer configures a session’s waiting room, then it is refused; the organizer and an admin may', async () => {
  const founder = await user(['organizer']);
  const session = await sessionOf(founder);
  const path = `/api/v1/sessions/${session.id}/waiting-room`;
  const put = async (headers: Record<string, string>, body: unknown = settings) => (await request(services.bookingUrl, 'PUT', path, { body, headers })).status;

  const otherOrganizer = await user(['organizer']);
  await sessionOf(otherOrganizer);
  expect(await put({})).toBe(401);
  expect(await put((await user()).headers)).toBe(403);
  expect(await put(otherOrganizer.headers)).toBe(403);
  expect((await request(services.bookingUrl, 'GET', path)).status).toBe(404);

  expect(await put(founder.headers)).toBe(200);
  expect(await put((await user(['admin'])).headers, { ...settings, admission_rate_per_second: 20 })).toBe(200);
  expect((await request(services.bookingUrl, 'GET', path)).body).toMatchObject({ admission_rate_per_second: 20, state: 'WAITING_FOR_OPENING' });
  expect((await request(services.bookingUrl, 'DELETE', path, { headers: otherOrganizer.headers })).status).toBe(403);
  expect((await request(services.bookingUrl, 'DELETE', path, { headers: founder.headers })).status).toBe(204);
  expect((await request(services.bookingUrl, 'GET', path)).status).toBe(404);
});
