import { randomUUID } from 'node:crypto';
import { request, useBookingSystem } from './support/harness';

const system = useBookingSystem({ booking: true });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('price tier routes', () => {
  test('when a tier is created, then it can be fetched and is listed for its session with the global ones; an unknown id is 404', async () => {
    const sessionId = randomUUID();
    const tier = await request(system.booking.url, 'POST', '/api/v1/price-tiers', {
      body: { session_id: sessionId, name: 'Child', multiplier: 0.5, description: 'Under 12' },
    });
    expect(tier.status).toBe(201);
    expect(tier.body).toEqual({
      id: expect.stringMatching(UUID),
      session_id: sessionId,
      name: 'Child',
      multiplier: 0.5,
      description: 'Under 12',
      created_at: expect.any(String),
    });
    expect((await request(system.booking.url, 'GET', `/api/v1/price-tiers/${tier.body.id}`)).body).toEqual(tier.body);
    const list = await request(system.booking.url, 'GET', `/api/v1/price-tiers?session_id=${sessionId}&limit=100`);
    expect(list.body.map((t: any) => t.id)).toContain(tier.body.id);
    expect(list.body.every((t: any) => t.session_id === sessionId || t.session_id === null)).toBe(true);
    expect((await request(system.booking.url, 'GET', `/api/v1/price-tiers/${randomUUID()}`)).status).toBe(404);
  });

  test('when the multiplier is outside 0 < m <= 1 or has more than 4 decimals, then POST answers 422', async () => {
    for (const multiplier of [0, -0.5, 1.01, 0.12345, '0.5']) {
      const response = await request(system.booking.url, 'POST', '/api/v1/price-tiers', { body: { name: 'Bad', multiplier } });
      expect(response.status).toBe(422);
    }
  });
});
