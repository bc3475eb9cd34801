import { startSystem, type RunningSystem } from '../support/system';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runSmoke } = require('./smoke.js');

describe('the smoke test script', () => {
  let system: RunningSystem;
  beforeAll(async () => {
    system = await startSystem('smoke');
  }, 60_000);
  afterAll(() => system?.stop());

  it('walks a fresh catalog to a sold seat and a ticket against the running system', async () => {
    const results = await runSmoke({ eventUrl: system.eventUrl, bookingUrl: system.bookingUrl });
    expect(results.map((r: { step: string }) => r.step)).toEqual([
      'both services are healthy',
      'build a catalog: organizer → location → hall → seats → event → session',
      'seat map lists 10 available seats',
      'reserve one seat',
      'seat shows reserved',
      'confirm with a mock payment',
      'seat shows sold (through RabbitMQ)',
      'ticket with QR code, and its PNG',
    ]);
  });

  it('fails loudly when a service is not there', async () => {
    await expect(runSmoke({ eventUrl: 'http://127.0.0.1:1', bookingUrl: system.bookingUrl })).rejects.toThrow();
  });
});
