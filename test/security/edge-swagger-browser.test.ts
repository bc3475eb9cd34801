/**
 * The Content-Security-Policy must keep Swagger UI working: a real headless Chromium loads /docs of the
 * booking API, renders its operations and runs one request, with no CSP violation reported. Needs a Chromium
 * (test/support/chromium.ts: CHROMIUM_PATH, or /usr/bin/chromium); without one it skips with a warning, or fails in CI.
 */
import { chromium, type Browser } from 'playwright-core';
import type { RunningBookingApi } from '../../services/booking-service/src/entry-points/api';
import type { EventApi } from '../../services/event-service/src/entry-points/api';
import { startBookingSide, startEventSide, stopBookingSide } from '../../services/booking-service/test/support/harness';
import { describeWithBrowser, executablePath } from '../support/chromium';

describeWithBrowser('Swagger UI under the CSP, in headless Chromium', () => {
  let event: EventApi;
  let booking: RunningBookingApi;
  let browser: Browser;

  beforeAll(async () => {
    event = await startEventSide();
    booking = await startBookingSide(event.url);
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    await stopBookingSide(booking);
    await event?.stop();
  });

  test('when /docs is opened, then the operations render, "Try it out" reaches the API, and nothing is refused by the CSP', async () => {
    const page = await browser.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
    });
    page.on('pageerror', (error) => refused.push(`page error: ${error.message}`));
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(booking.url) && !request.url().startsWith('data:')) outside.push(request.url());
    });

    const response = await page.goto(`${booking.url}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });
    const operations = await page.locator('.opblock').count();

    // Expand GET /api/v1/price-tiers and execute it from the page (connect-src 'self').
    const listTiers = page.locator('#operations-Price\\ tiers-listPriceTiers, [id$="-listPriceTiers"]').first();
    await listTiers.locator('.opblock-summary').click();
    await listTiers.getByRole('button', { name: 'Try it out' }).click();
    const [apiResponse] = await Promise.all([
      page.waitForResponse((candidate) => candidate.url().includes('/api/v1/price-tiers'), { timeout: 10_000 }),
      listTiers.getByRole('button', { name: 'Execute' }).click(),
    ]);
    const shown = listTiers.locator('.live-responses-table tbody .response-col_status').first();
    await shown.waitFor({ timeout: 10_000 });
    const status = `${apiResponse.status()}/${(await shown.innerText()).trim()}`;

    await page.screenshot({ path: '/tmp/edge-swagger-ui.png', fullPage: false });
    console.log(`Swagger UI: ${operations} operations rendered, Try it out -> ${status}, CSP refusals ${refused.length}, outside requests ${outside.length}`);
    expect(operations).toBeGreaterThan(5);
    expect(status).toBe('200/200');
    expect(refused).toEqual([]);
    expect(outside).toEqual([]);
  }, 60_000);
});
