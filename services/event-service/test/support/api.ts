import { startEventApi, type EventApi } from '../../src/entry-points/api';
import { migrateEventDatabase } from '../../src/data-access/database';
import { EVENT_TEST_DATABASE_URL, silentLogLevel } from '../../../../test/support/infra';
import { request } from '../../../../test/support/http';

/** Migrates the test database and starts the API in-process on a free port. */
export async function startTestApi(overrides: Parameters<typeof startEventApi>[0] = {}): Promise<EventApi> {
  await migrateEventDatabase(EVENT_TEST_DATABASE_URL);
  return startEventApi({
    PORT: 0,
    HOST: '127.0.0.1',
    DATABASE_URL: EVENT_TEST_DATABASE_URL,
    LOG_LEVEL: silentLogLevel as 'silent',
    ...overrides,
  });
}

/** A catalog built through the public API: organizer → location → hall → seats → event → session. */
export async function buildCatalog(
  url: string,
  options: { seats?: Array<Record<string, unknown>>; basePrice?: number; startsInMs?: number } = {},
) {
  const ok = async (method: string, path: string, body: unknown) => {
    const response = await request(url, method, path, { body });
    if (response.status !== 201) throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  const organizer = await ok('POST', '/api/v1/organizers', { name: 'Test Organizer' });
  const location = await ok('POST', '/api/v1/locations', { name: 'Test Venue', city: 'Kyiv', timezone: 'Europe/Kyiv' });
  const hall = await ok('POST', `/api/v1/locations/${location.id}/halls`, { name: 'Hall A', capacity: 100 });
  const seats = options.seats ?? [1, 2].flatMap((row) => [1, 2, 3].map((seat) => ({ row_number: row, seat_number: seat })));
  await ok('POST', `/api/v1/halls/${hall.id}/seats/bulk`, { seats });
  const event = await ok('POST', '/api/v1/events', { title: 'Test Event', event_type: 'concert', organizer_id: organizer.id });
  const start = Date.now() + (options.startsInMs ?? 7 * 86_400_000);
  const session = await ok('POST', '/api/v1/sessions', {
    event_id: event.id,
    hall_id: hall.id,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + 7_200_000).toISOString(),
    base_price: options.basePrice ?? 100,
  });
  return { organizer, location, hall, event, session };
}
