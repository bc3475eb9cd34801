import { describeWithBrowser, seatSelector, startBrowserSystem, type BrowserSystem } from './support/browser-system';

describeWithBrowser('web app: an organizer sets up a show that a buyer then books', () => {
  let env: BrowserSystem;

  beforeAll(async () => {
    env = await startBrowserSystem('browser_organizer');
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  test('when the organizer creates a venue, a hall from pasted rows, an event and a session, then a buyer books it and the sales table counts the sale', async () => {
    const { page } = await env.openPage('#/organize');
    const step = (name: string) => page.getByRole('form', { name });

    await step('1. Organizer').getByLabel('Name').fill('Harbour Arts');
    await step('1. Organizer').getByRole('button', { name: 'Create organizer' }).click();
    await step('1. Organizer').getByText('Created organizer Harbour Arts.').waitFor();

    await step('2. Venue').getByLabel('Venue name').fill('Harbour Hall');
    await step('2. Venue').getByLabel('City').fill('Lisbon');
    await step('2. Venue').getByRole('button', { name: 'Create venue' }).click();
    await step('2. Venue').getByText('Created venue Harbour Hall.').waitFor();

    await step('3. Hall and seats').getByLabel('Hall name').fill('Main room');
    await step('3. Hall and seats').getByLabel(/one row per line/).fill('A 1-12\nB 1-12\nC 1-6, 9-14');
    await step('3. Hall and seats').getByRole('button', { name: 'Create hall with seats' }).click();
    await step('3. Hall and seats').getByText('Created hall Main room with 36 seats.').waitFor();

    await step('4. Event').getByLabel('Organizer').selectOption({ label: 'Harbour Arts' });
    await step('4. Event').getByLabel('Title').fill('Fado Night');
    await step('4. Event').getByRole('button', { name: 'Create event' }).click();
    await step('4. Event').getByText('Created event Fado Night.').waitFor();

    await step('5. Session').getByLabel('Event').selectOption({ label: 'Fado Night' });
    await step('5. Session').getByLabel('Hall').selectOption({ label: 'Main room (Harbour Hall)' });
    await step('5. Session').getByLabel('Base price').fill('25');
    await step('5. Session').getByRole('button', { name: 'Create session' }).click();
    await step('5. Session').getByText(/it is on sale now/).waitFor();
    await env.screenshot(page, 'organizer-1-created');

    // A buyer (another browser profile) finds the show and books one seat.
    const buyer = await env.openPage('#/');
    await buyer.page.getByRole('list', { name: 'Sessions of Fado Night' }).getByRole('link').click();
    await buyer.page.waitForSelector(seatSelector('available'));
    expect(await buyer.page.locator(seatSelector()).count()).toBe(36);
    await buyer.page.locator(seatSelector('available')).first().click();
    await buyer.page.getByRole('button', { name: 'Hold 1 seat' }).click();
    await buyer.page.getByRole('button', { name: 'Pay 25.00' }).click();
    await buyer.page.locator('.ticket').first().waitFor();

    // The seat turns sold when the event service applies the booking's confirmation message (asynchronous).
    const row = page.locator('table.sales tbody tr', { hasText: 'Fado Night' });
    const deadline = Date.now() + 20_000;
    do {
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.getByText(/^\d+ sessions?$/).waitFor();
      if ((await row.locator('[data-count="sold"]').textContent()) === '1') break;
      await page.waitForTimeout(500);
    } while (Date.now() < deadline);
    expect(await row.locator('[data-count="sold"]').textContent()).toBe('1');
    expect(await row.locator('[data-count="available"]').textContent()).toBe('35');
    await env.screenshot(page, 'organizer-2-sales');
  }, 60_000);
});
