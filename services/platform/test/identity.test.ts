import { randomUUID } from 'node:crypto';
import type { Context } from 'koa';
import { SignJWT, generateKeyPair } from 'jose';
import { Registry } from 'prom-client';
import { z } from 'zod';
import {
  AppError,
  actorOf,
  checkIdentityConfig,
  createIdentity,
  identityConfigShape,
  loadConfig,
  requireCallerForWrites,
} from '../src';

const SECRET = 'platform-identity-test-secret-0123456789';
const schema = z.object({ NODE_ENV: z.string().default('test'), ...identityConfigShape }).superRefine(checkIdentityConfig);
const identityFor = (env: Record<string, string>) => createIdentity(loadConfig(schema, env));

const sign = (claims: Record<string, unknown>, sub: string = randomUUID()) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1m').sign(new TextEncoder().encode(SECRET));

function fakeContext(method: string, headers: Record<string, string> = {}) {
  return { method, state: {} as Record<string, unknown>, get: (name: string) => headers[name.toLowerCase()] ?? '' } as unknown as Context;
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    return error as AppError;
  }
  throw new Error('expected a refusal');
}

test('when the roles claim is an array or a space-separated string, then only the known roles are kept', async () => {
  const identity = identityFor({ AUTH_JWT_SECRET: SECRET });
  expect((await identity.verifyToken(await sign({ roles: ['organizer', 'superuser', 'door'] }))).roles).toEqual(['organizer', 'door']);
  expect((await identity.verifyToken(await sign({ roles: 'admin offline_access' }))).roles).toEqual(['admin']);
  expect((await identity.verifyToken(await sign({}))).roles).toEqual([]);
});

test('when sub is an upper-case UUID, then the user id is its lower-case spelling', async () => {
  const sub = randomUUID();
  const caller = await identityFor({ AUTH_JWT_SECRET: SECRET }).verifyToken(await sign({}, sub.toUpperCase()));
  expect(caller.userId).toBe(sub);
});

test('when jwt mode guards a public resource, then reads need nobody and writes need a verified caller', async () => {
  const guard = requireCallerForWrites(identityFor({ AUTH_JWT_SECRET: SECRET }));
  const read = fakeContext('GET');
  await guard(read);
  expect(read.state.caller).toBeUndefined();
  const anonymous = await refusal(guard(fakeContext('POST', { 'x-user-id': randomUUID() })));
  expect([anonymous.status, anonymous.code]).toEqual([401, 'UNAUTHENTICATED']);
  const write = fakeContext('POST', { authorization: `Bearer ${await sign({ roles: ['organizer'] })}` });
  await guard(write);
  expect(actorOf(write)).toMatchObject({ kind: 'user', caller: { roles: ['organizer'] } });
});

test('when header mode guards a public resource, then a write is open to anyone and an X-User-ID still names its user', async () => {
  const guard = requireCallerForWrites(identityFor({}));
  const nobody = fakeContext('POST');
  await guard(nobody);
  expect(actorOf(nobody)).toEqual({ kind: 'anyone', userId: undefined });
  const user = randomUUID();
  const named = fakeContext('POST', { 'x-user-id': user });
  await guard(named);
  expect(actorOf(named)).toEqual({ kind: 'anyone', userId: user });
});

test('when both key sources or a non-HTTP JWKS URL are configured, then the configuration is refused naming the variable', () => {
  expect(() => loadConfig(schema, { AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://idp.example/certs' })).toThrow(/AUTH_JWKS_URL/);
  expect(() => loadConfig(schema, { AUTH_JWKS_URL: 'file:///etc/keys.json' })).toThrow(/AUTH_JWKS_URL: must be a URL/);
});

test('when the JWKS cannot be fetched, then a token is answered 503 IDENTITY_PROVIDER_UNAVAILABLE, not 401', async () => {
  const identity = identityFor({ AUTH_JWKS_URL: 'http://127.0.0.1:1/certs' });
  const { privateKey } = await generateKeyPair('RS256');
  const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject(randomUUID()).setExpirationTime('1m').sign(privateKey);
  const error = await refusal(identity.verifyToken(jwt));
  expect([error.status, error.code]).toEqual([503, 'IDENTITY_PROVIDER_UNAVAILABLE']);
  const malformed = await refusal(identity.verifyToken('not.a.jwt'));
  expect([malformed.status, malformed.code]).toEqual([401, 'UNAUTHENTICATED']);
});

describe('verified tokens', () => {
  const checks = async (registry: Registry) =>
    Object.fromEntries((await registry.getSingleMetric('auth_bearer_token_checks_total')!.get()).values.map((v) => [v.labels.outcome, v.value]));

  test('when a buyer sends the same token again, then it is answered from memory and only a new token is verified', async () => {
    const registry = new Registry();
    const identity = createIdentity(loadConfig(schema, { AUTH_JWT_SECRET: SECRET }), { registry });
    const first = await sign({ roles: ['door'] });
    for (let request = 0; request < 3; request++) expect((await identity.verifyToken(first)).roles).toEqual(['door']);
    await identity.verifyToken(await sign({}));
    expect(await checks(registry)).toEqual({ remembered: 2, verified: 2, refused: 0 });
  });

  test('when the cache is off, then every request is verified in full', async () => {
    const registry = new Registry();
    const identity = createIdentity(loadConfig(schema, { AUTH_JWT_SECRET: SECRET, AUTH_TOKEN_CACHE_SECONDS: '0' }), { registry });
    const token = await sign({});
    for (let request = 0; request < 3; request++) await identity.verifyToken(token);
    expect(await checks(registry)).toEqual({ remembered: 0, verified: 3, refused: 0 });
  });

  test('when a remembered token passes its exp, then it is refused as expired, as it would be without the cache', async () => {
    let now = Date.now();
    const registry = new Registry();
    const config = loadConfig(schema, { AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_SKEW_SECONDS: '0', AUTH_TOKEN_CACHE_SECONDS: '3600' });
    const identity = createIdentity(config, { registry, now: () => now });
    const expiresAt = Math.floor(now / 1000) + 30;
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(randomUUID()).setExpirationTime(expiresAt).sign(new TextEncoder().encode(SECRET));
    await identity.verifyToken(token);
    now = expiresAt * 1000 - 1;
    await identity.verifyToken(token);
    now = expiresAt * 1000 + 1;
    const expired = await refusal(identity.verifyToken(token));
    expect([expired.status, expired.message]).toEqual([401, 'Token expired']);
    expect(await checks(registry)).toEqual({ remembered: 1, verified: 1, refused: 1 });
  });

  test('when a remembered token is presented with another signature, then that token is verified in full and refused', async () => {
    const identity = identityFor({ AUTH_JWT_SECRET: SECRET });
    const token = await sign({ roles: ['organizer'] });
    await identity.verifyToken(token);
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(32, 1).toString('base64url')}`;
    const refused = await refusal(identity.verifyToken(forged));
    expect([refused.status, refused.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});
