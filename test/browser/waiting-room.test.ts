import { describeWithBrowser, seatSelector, startBrowserSystem, viaWeb, type BrowserSystem } from './support/browser-system';

describeWithBrowser('web app: a buyer in the on-sale waiting room', () => {
  let env: BrowserSystem;
  let sessionId: string | undefined;

  beforeAll(async () => {
    env = await startBrowserSystem('browser_queue');
  }, 120_000);

  afterAll(async () => {
    if (sessionId) await fetch(`${env.web.url}/api/v1/sessions/${sessionId}/waiting-room`, { method: 'DELETE' }).catch(() => undefined);
    await env?.stop();
  });

  /** A fresh four-seat session (the demo session's id is shared by every test system, its waiting room would be too). */
  async function freshSession(): Promise<string> {
    const post = <T>(path: string, body: unknown) => viaWeb<T>(env, path, { method: 'POST', body });
    const organizer = await post<{ id: string }>('/organizers', { name: 'Queue organizer' });
    const location = await post<{ id: string }>('/locations', { name: 'Queue venue' });
    const hall = await post<{ id: string }>(`/locations/${location.id}/halls`, { name: 'Hall', capacity: 4 });
    await post(`/halls/${hall.id}/seats/bulk`, { seats: [1, 2, 3, 4].map((seat) => ({ row_number: 1, seat_number: seat })) });
    const show = await post<{ id: string }>('/events', { title: 'Big on-sale', event_type: 'concert', organizer_id: organizer.id });
    const start = Date.now() + 24 * 3600_000;
    const session = await post<{ id: string }>('/sessions', {
      event_id: show.id,
      hall_id: hall.id,
      start_time: new Date(start).toISOString(),
      end_time: new Date(start + 7200_000).toISOString(),
      base_price: 50,
    });
    return session.id;
  }

  test('when the session has a waiting room, then the page shows the queue and, once admitted, the seat map where the hold succeeds', async () => {
    sessionId = await freshSession();
    await viaWeb(env, `/sessions/${sessionId}/waiting-room`, {
      method: 'PUT',
      body: { opens_at: new Date(Date.now() + 3_000).toISOString(), admission_rate_per_second: 5, hold_window_seconds: 60 },
    });
    const { page } = await env.openPage(`#/sessions/${sessionId}`);
    await page.waitForSelector('.waiting-room[data-queue-status="WAITING_FOR_OPENING"]');
    expect(await page.locator('.queue-headline').textContent()).toMatch(/random place/);
    await env.screenshot(page, 'queue-1-waiting');

    await page.waitForSelector(seatSelector('available'), { timeout: 20_000 });
    expect(await page.locator('.waiting-room').count()).toBe(0);
    await page.locator(seatSelector('available')).first().click();
    await page.getByRole('button', { name: 'Hold 1 seat' }).click();
    await page.getByRole('timer').waitFor();
    await env.screenshot(page, 'queue-2-admitted-and-held');
  }, 60_000);
});
