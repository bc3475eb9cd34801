import { DEMO_SESSION_ID, describeWithBrowser, seatSelector, startBrowserSystem, type BrowserSystem } from './support/browser-system';

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
});
