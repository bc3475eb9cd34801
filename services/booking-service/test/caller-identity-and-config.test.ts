import { createHmac, randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { AppError, ConfigError } from '@ticketing/platform';
import { loadBookingConfig } from '../src/config';
import { callerGuard } from '../src/entry-points/http/caller-identity';

const SECRET = 'jwt-test-secret';

function jwt(payload: Record<string, unknown>, secret = SECRET, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode(header)}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function identify(guardSecret: string | undefined, headers: Record<string, string>): string {
  const ctx = { state: {} as Record<string, unknown>, get: (name: string) => headers[name.toLowerCase()] ?? '' };
  callerGuard(guardSecret)(ctx as unknown as Context);
  return ctx.state.userId as string;
}

function rejection(guardSecret: string | undefined, headers: Record<string, string>): AppError {
  try {
    identify(guardSecret, headers);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the guard to refuse the caller');
}

describe('naming the caller', () => {
  it('takes X-User-ID when no JWT secret is configured, and refuses a missing or malformed one with 401', () => {
    const user = randomUUID();
    expect(identify(undefined, { 'x-user-id': user })).toBe(user);
    expect(identify(undefined, { 'x-user-id': user.toUpperCase() })).toBe(user);
    const cases: Array<Record<string, string>> = [{}, { 'x-user-id': 'bob' }, { 'x-user-id': `${user}x` }];
    for (const headers of cases) {
      const error = rejection(undefined, headers);
      expect([error.status, error.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('with AUTH_JWT_SECRET set, accepts a valid HS256 bearer token and nothing else', () => {
    const user = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    expect(identify(SECRET, { authorization: `Bearer ${jwt({ sub: user, exp: now + 60 })}` })).toBe(user);
    expect(identify(SECRET, { authorization: `Bearer ${jwt({ sub: user })}` })).toBe(user);

    const refused: Array<Record<string, string>> = [
      { 'x-user-id': user },
      { authorization: `Bearer ${jwt({ sub: user, exp: now - 1 })}` },
      { authorization: `Bearer ${jwt({ sub: user, nbf: now + 60 })}` },
      { authorization: `Bearer ${jwt({ sub: user }, 'another-secret')}` },
      { authorization: `Bearer ${jwt({ sub: 'not-a-uuid' })}` },
      { authorization: `Bearer ${jwt({ sub: user }, SECRET, { alg: 'none' })}` },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { authorization: 'Bearer garbage' },
    ];
    for (const headers of refused) {
      const error = rejection(SECRET, headers);
      expect([error.status, error.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });
});

describe('booking configuration', () => {
  it('has the documented defaults', () => {
    const config = loadBookingConfig({});
    expect(config).toMatchObject({
      PORT: 8001,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/booking_service',
      REDIS_URL: 'redis://127.0.0.1:6379',
      EVENT_SERVICE_URL: 'http://127.0.0.1:8000',
      EVENT_SERVICE_TIMEOUT_MS: 2000,
      RESERVATION_TTL_SECONDS: 600,
      MAX_SEATS_PER_RESERVATION: 10,
      PAYMENT_SUCCESS_RATE: 1,
      EXPIRY_SWEEP_INTERVAL_SECONDS: 5,
      EXPIRY_BATCH_SIZE: 500,
      OUTBOX_POLL_INTERVAL_MS: 1000,
      LOCK_TTL_MS: 5000,
      DB_POOL_MAX: 10,
    });
    expect(config.TICKET_SIGNING_SECRET).toEqual(expect.any(String));
    expect(config.AUTH_JWT_SECRET).toBeUndefined();
  });

  it('fails fast with one line naming the bad variable', () => {
    expect(() => loadBookingConfig({ PAYMENT_SUCCESS_RATE: '1.5' })).toThrow(ConfigError);
    expect(() => loadBookingConfig({ PAYMENT_SUCCESS_RATE: '1.5' })).toThrow(/PAYMENT_SUCCESS_RATE/);
    expect(() => loadBookingConfig({ EVENT_SERVICE_URL: 'ftp://x' })).toThrow(/EVENT_SERVICE_URL/);
  });

  it('requires TICKET_SIGNING_SECRET in production', () => {
    expect(() => loadBookingConfig({ NODE_ENV: 'production' })).toThrow(/TICKET_SIGNING_SECRET/);
    expect(loadBookingConfig({ NODE_ENV: 'production', TICKET_SIGNING_SECRET: 's3cret' }).TICKET_SIGNING_SECRET).toBe('s3cret');
  });
});
