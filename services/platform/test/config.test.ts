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

  test('when LOG_LEVEL is written in capitals or with Python names, then it is accepted as the same level', () => {
    expect(loadConfig(schema, { LOG_LEVEL: 'INFO' }).LOG_LEVEL).toBe('info');
    expect(loadConfig(schema, { LOG_LEVEL: 'Debug' }).LOG_LEVEL).toBe('debug');
    expect(loadConfig(schema, { LOG_LEVEL: 'WARNING' }).LOG_LEVEL).toBe('warn');
    expect(loadConfig(schema, { LOG_LEVEL: 'CRITICAL' }).LOG_LEVEL).toBe('fatal');
    expect(() => loadConfig(schema, { LOG_LEVEL: 'LOUD' })).toThrow(/LOG_LEVEL/);
  });
});

describe('the broker URL from its parts', () => {
  test('when RABBITMQ_URL is unset and the Bitnami-style parts are set, then they build the URL, user and password encoded', () => {
    const config = loadConfig(schema, {
      RABBITMQ_HOST: 'rabbitmq.infra.svc',
      RABBITMQ_PORT: '5673',
      RABBITMQ_USER: 'booking@svc',
      RABBITMQ_PASSWORD: 'p@ss:w/rd#1%',
    });
    expect(config.RABBITMQ_URL).toBe('amqp://booking%40svc:p%40ss%3Aw%2Frd%231%25@rabbitmq.infra.svc:5673');
    const url = new URL(config.RABBITMQ_URL);
    expect(decodeURIComponent(url.username)).toBe('booking@svc');
    expect(decodeURIComponent(url.password)).toBe('p@ss:w/rd#1%');
  });

  test('when only some parts are set, then the others take the local defaults', () => {
    expect(loadConfig(schema, { RABBITMQ_HOST: 'mq' }).RABBITMQ_URL).toBe('amqp://guest:guest@mq:5672');
    expect(loadConfig(schema, { RABBITMQ_PASSWORD: 'secret' }).RABBITMQ_URL).toBe('amqp://guest:secret@127.0.0.1:5672');
  });

  test('when RABBITMQ_VHOST names a vhost, then it becomes the encoded path; "/" is the default vhost', () => {
    expect(loadConfig(schema, { RABBITMQ_HOST: 'mq', RABBITMQ_VHOST: 'ticketing/prod' }).RABBITMQ_URL).toBe(
      'amqp://guest:guest@mq:5672/ticketing%2Fprod',
    );
    expect(loadConfig(schema, { RABBITMQ_HOST: 'mq', RABBITMQ_VHOST: '/' }).RABBITMQ_URL).toBe('amqp://guest:guest@mq:5672');
  });

  test('when RABBITMQ_URL is set, then it wins over the parts', () => {
    const config = loadConfig(schema, { RABBITMQ_URL: 'amqp://a:b@broker:5672', RABBITMQ_HOST: 'other', RABBITMQ_PASSWORD: 'x' });
    expect(config.RABBITMQ_URL).toBe('amqp://a:b@broker:5672');
  });

  test('when Kubernetes service links set RABBITMQ_PORT=tcp://ip:port, then that counts as the port, not as an error', () => {
    expect(loadConfig(schema, { RABBITMQ_URL: 'amqp://a:b@broker:5672', RABBITMQ_PORT: 'tcp://10.96.0.7:5672' }).RABBITMQ_URL).toBe(
      'amqp://a:b@broker:5672',
    );
    expect(loadConfig(schema, { RABBITMQ_HOST: 'mq', RABBITMQ_PORT: 'tcp://10.96.0.7:5679' }).RABBITMQ_URL).toBe(
      'amqp://guest:guest@mq:5679',
    );
  });

  test('when RABBITMQ_PORT is not a port, then start-up fails naming RABBITMQ_PORT', () => {
    expect(() => loadConfig(schema, { RABBITMQ_HOST: 'mq', RABBITMQ_PORT: 'amqp' })).toThrow(/RABBITMQ_PORT/);
    expect(() => loadConfig(schema, { RABBITMQ_PORT: '70000' })).toThrow(/RABBITMQ_PORT/);
  });
});
