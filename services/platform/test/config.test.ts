import { z } from 'zod';
import { ConfigError, baseConfigShape, envBool, envInt, envUrl, loadConfig } from '../src/config';

const schema = z.object({
  ...baseConfigShape,
  PORT: envInt(8000, 1, 65535),
  DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/x', ['postgres', 'postgresql']),
  FEATURE: envBool(false),
});

describe('configuration', () => {
  it('applies safe local defaults when nothing is set', () => {
    const config = loadConfig(schema, {});
    expect(config).toMatchObject({
      PORT: 8000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
      FEATURE: false,
    });
  });

  it('treats empty variables as unset and parses the given ones', () => {
    expect(loadConfig(schema, { PORT: '', FEATURE: 'yes', LOG_LEVEL: 'debug' })).toMatchObject({
      PORT: 8000,
      FEATURE: true,
      LOG_LEVEL: 'debug',
    });
  });

  it('names every bad variable in one line', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^Invalid configuration: /);
    expect(message).toContain('PORT');
    expect(message).toContain('DATABASE_URL: must be a URL starting with postgres:// or postgresql://');
    expect(message).toContain('LOG_LEVEL');
  });

  it('rejects out-of-range numbers', () => {
    expect(() => loadConfig(schema, { PORT: '70000' })).toThrow(/PORT/);
  });
});
