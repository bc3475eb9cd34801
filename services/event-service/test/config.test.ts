import { ConfigError } from '@ticketing/platform';
import { loadEventConfig, resolveEventConfig } from '../src/config';
import { startEventApi } from '../src/entry-points/api';

describe('event service configuration', () => {
  test('has safe local defaults', () => {
    const config = loadEventConfig({});
    expect(config).toMatchObject({
      PORT: 8000,
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/event_service',
      DB_POOL_MAX: 10,
      SEAT_MAP_CACHE_MS: 500,
      METRICS_PORT: 9101,
      CONSUMER_PREFETCH: 200,
      CONSUMER_BATCH_SIZE: 100,
      PROCESSED_MESSAGES_RETENTION_HOURS: 168,
      CONSUMER_MAX_ATTEMPTS: 5,
      SEED_DEMO_DATA: false,
    });
    expect(config.INTERNAL_API_TOKEN).toBeUndefined();
    expect(loadEventConfig({ INTERNAL_API_TOKEN: '' }).INTERNAL_API_TOKEN).toBeUndefined();
  });

  test('a bad PORT stops it with one line naming the variable', () => {
    expect(() => loadEventConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    let message = '';
    try {
      loadEventConfig({ PORT: '70000' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration: PORT: /);
    expect(message).not.toContain('\n');
  });

  test('a DATABASE_URL that is not a postgres URL is named in one line', () => {
    let message = '';
    try {
      loadEventConfig({ DATABASE_URL: 'mysql://localhost/events', SEED_DEMO_DATA: 'maybe' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'Invalid configuration: DATABASE_URL: must be a URL starting with postgres:// or postgresql://; SEED_DEMO_DATA: must be true or false',
    );
  });

  test('overrides are validated like the environment', async () => {
    expect(resolveEventConfig({ PORT: 0, INTERNAL_API_TOKEN: 'token' }, {})).toMatchObject({
      PORT: 0,
      INTERNAL_API_TOKEN: 'token',
    });
    await expect(startEventApi({ PORT: -1 })).rejects.toThrow(/^Invalid configuration: PORT: /);
  });
});
