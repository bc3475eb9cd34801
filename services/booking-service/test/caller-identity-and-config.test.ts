import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { SignJWT } from 'jose';
import { AppError, ConfigError, createIdentity } from '@ticketing/platform';
import { loadBookingConfig } from '../src/config';
import { callerGuard, callerId } from '../src/entry-points/http/caller-identity';

const SECRET = 'jwt-test-secret-of-at-least-32-bytes!';

async function identify(config: Record<string, string>, headers: Record<string, string>): Promise<string> {
  const ctx = { state: {} as Record<string, unknown>, get: (name: string) => headers[name.toLowerCase()] ?? '' };
  await callerGuard(createIdentity(loadBookingConfig(config)))(ctx as unknown as Context);
  return callerId(ctx as unknown as Context);
}

async function rejection(config: Record<string, string>, headers: Record<string, string>): Promise<AppError> {
  try {
    await identify(config, headers);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected the guard to refuse the caller');
}

describe('naming the caller', () => {
  it('when no JWT secret is configured, then X-User-ID names the caller and a missing or malformed one is a 401', async () => {
    const user = randomUUID();
    expect(await identify({}, { 'x-user-id': user })).toBe(user);
    expect(await identify({}, { 'x-user-id': user.toUpperCase() })).toBe(user);
    const cases: Array<Record<string, string>> = [{}, { 'x-user-id': 'bob' }, { 'x-user-id': `${user}x` }];
    for (const headers of cases) {
      const error = await rejection({}, headers);
      expect([error.status, error.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
  });

  it('when AUTH_JWT_SECRET is set, then a verified bearer token names the caller and X-User-ID does not', async () => {
    const user = randomUUID();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user)
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(SECRET));
    expect(await identify({ AUTH_JWT_SECRET: SECRET }, { authorization: `Bearer ${token}` })).toBe(user);
    const error = await rejection({ AUTH_JWT_SECRET: SECRET }, { 'x-user-id': user });
    expect([error.status, error.code]).toEqual([401, 'UNAUTHENTICATED']);
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
    const secrets = { AUTH_JWT_SECRET: SECRET, INTERNAL_API_TOKEN: 'i'.repeat(32), QUEUE_ADMISSION_SECRET: 'q'.repeat(32) };
    expect(() => loadBookingConfig({ NODE_ENV: 'production', ...secrets })).toThrow(/TICKET_SIGNING_SECRET/);
    const signing = 's'.repeat(32);
    const keys = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(loadBookingConfig({ NODE_ENV: 'production', ...secrets, TICKET_SIGNING_SECRET: signing, TICKET_SIGNING_KEYS: keys }).TICKET_SIGNING_SECRET).toBe(signing);
  });

  test('when production starts without Ed25519 ticket keys, or with keys that cannot sign, then it refuses naming TICKET_SIGNING_KEYS', () => {
    const secrets = {
      AUTH_JWT_SECRET: SECRET,
      INTERNAL_API_TOKEN: 'i'.repeat(32),
      TICKET_SIGNING_SECRET: 's'.repeat(32),
      QUEUE_ADMISSION_SECRET: 'q'.repeat(32),
    };
    expect(() => loadBookingConfig({ NODE_ENV: 'production', ...secrets })).toThrow(/TICKET_SIGNING_KEYS: is required/);
    const publicOnly = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string;
    expect(() => loadBookingConfig({ NODE_ENV: 'production', ...secrets, TICKET_SIGNING_KEYS: publicOnly })).toThrow(/TICKET_SIGNING_KEYS: has no private key/);
    expect(() => loadBookingConfig({ TICKET_SIGNING_ACTIVE_KID: 'k1' })).toThrow(/TICKET_SIGNING_ACTIVE_KID/);
    expect(loadBookingConfig({}).TICKET_SIGNING_KEYS).toBeUndefined();
  });
});
