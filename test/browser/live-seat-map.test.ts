import { randomUUID } from 'node:crypto';
import { DEMO_SESSION_ID, describeWithBrowser, seatSelector, startBrowserSystem, viaWeb, type BrowserSystem } from './support/browser-system';

const TTL_SECONDS = 4;

describeWithBrowser('web app: two buyers watching one session', () => {
  let env: BrowserSystem;

  beforeAll(async () => {
    env = await startBrowserSystem('browser_live', { ttlSeconds: TTL_SECONDS });
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('when one buyer holds a seat, then it turns taken in the other buyer’s open page within 1 s, and both see it free again when the hold expires', async () => {
    const alice = await env.openPage(`#/sessions/${DEMO_SESSION_ID}`);
    const bob = await env.openPage(`#/sessions/${DEMO_SESSION_ID}`);
    await alice.page.waitForSelector(seatSelector('available'));
    await bob.page.waitForSelector(seatSelector('available'));
    // Both pages follow the seat-map stream (GET /seat-map/stream through the web app's proxy), not polling.
    await alice.page.waitForSelector('[data-mode="live"]', { timeout: 5_000 });
    await bob.page.waitForSelector('[data-mode="live"]', { timeout: 5_000 });
    const seat = alice.page.locator(seatSelector('available')).nth(5);
    const seatId = await seat.getAttribute('data-session-seat-id');
    const inBob = bob.page.locator(`button.seat[data-session-seat-id="${seatId}"]`);
    expect(await inBob.getAttribute('data-status')).toBe('available');

    await seat.click();
    await alice.page.getByRole('button', { name: 'Hold 1 seat' }).click();
    await alice.page.getByRole('timer').waitFor();
    const heldAt = Date.now();
    await bob.page.waitForSelector(`button.seat[data-session-seat-id="${seatId}"][data-status="reserved"]`, { timeout: 1_000 });
    console.log(`browser live map: hold visible in the other page ${Date.now() - heldAt} ms after the hold answered (no reload)`);
    expect(await inBob.getAttribute('aria-label')).toMatch(/taken/);
    await inBob.click({ force: true });
    expect(await inBob.getAttribute('aria-pressed')).toBe('false');
    await env.screenshot(bob.page, 'live-1-other-buyer-sees-hold');

    // The hold lapses (TTL 4 s, expiry sweep every 1 s): both pages show the seat on sale again, without reload.
    const freed = `button.seat[data-session-seat-id="${seatId}"][data-status="available"]`;
    await Promise.all([
      alice.page.waitForSelector(freed, { timeout: (TTL_SECONDS + 6) * 1_000 }),
      bob.page.waitForSelector(freed, { timeout: (TTL_SECONDS + 6) * 1_000 }),
    ]);
    await alice.page.getByText('Your hold expired').waitFor();
    await env.screenshot(alice.page, 'live-2-hold-expired');
  }, 30_000);

  test('when a hall has 20,000 seats, then the map draws every seat, zooms, and shows another buyer’s hold without reload', async () => {
    const organizer = await viaWeb<{ id: string }>(env, '/organizers', { method: 'POST', body: { name: 'Arena Co' } });
    const location = await viaWeb<{ id: string }>(env, '/locations', { method: 'POST', body: { name: 'Arena', organizer_id: organizer.id } });
    const hall = await viaWeb<{ id: string }>(env, `/locations/${location.id}/halls`, { method: 'POST', body: { name: 'Bowl', capacity: 20_000 } });
    const seats = Array.from({ length: 20_000 }, (_, index) => ({ row_number: String(Math.floor(index / 200) + 1), seat_number: String((index % 200) + 1) }));
    await viaWeb(env, `/halls/${hall.id}/seats/bulk`, { method: 'POST', body: { seats } });
    const event = await viaWeb<{ id: string }>(env, '/events', { method: 'POST', body: { title: 'Cup Final', event_type: 'sport', organizer_id: organizer.id } });
    const start = new Date(Date.now() + 86_400_000);
    const session = await viaWeb<{ id: string }>(env, '/sessions', {
      method: 'POST',
      body: { event_id: event.id, hall_id: hall.id, start_time: start.toISOString(), end_time: new Date(start.getTime() + 7_200_000).toISOString(), base_price: 30 },
    });

    const opened = Date.now();
    const watcher = await env.openPage(`#/sessions/${session.id}`);
    await watcher.page.locator(seatSelector()).nth(19_999).waitFor({ state: 'attached', timeout: 20_000 });
    await watcher.page.waitForSelector('[data-mode="live"]', { timeout: 5_000 });
    expect(await watcher.page.locator(seatSelector()).count()).toBe(20_000);
    console.log(`browser large hall: 20,000 seats drawn ${Date.now() - opened} ms after opening the page`);
    const zoomLevel = watcher.page.locator('.zoom-level');
    const fitted = await zoomLevel.textContent();
    await watcher.page.getByRole('button', { name: 'Zoom in' }).click();
    expect(await zoomLevel.textContent()).not.toBe(fitted);
    await env.screenshot(watcher.page, 'large-hall-20000');

    const buyer = randomUUID();
    const map = await viaWeb<{ seats: { session_seat_id: string }[] }>(env, `/sessions/${session.id}/seat-map`);
    const target = map.seats[12_345].session_seat_id;
    await viaWeb(env, '/reservations', { method: 'POST', userId: buyer, body: { session_id: session.id, seats: [{ session_seat_id: target }] } });
    const heldAt = Date.now();
    // The stream carries the one changed seat (polling re-downloaded the whole 4 MB map: 2.7-4 s per change here).
    await watcher.page.waitForSelector(`button.seat[data-session-seat-id="${target}"][data-status="reserved"]`, { timeout: 5_000, state: 'attached' });
    console.log(`browser large hall: hold visible ${Date.now() - heldAt} ms after it was made (live stream)`);
  }, 60_000);
});
