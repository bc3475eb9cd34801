/**
 * Issue 10, "production runs with impersonation", replayed: header identity in jwt mode, tokens without exp,
 * from another issuer or audience, badly signed or unsigned are refused; a JWKS served on 127.0.0.1 verifies
 * RS256/ES256/EdDSA tokens; every process's config loader refuses an insecure production start.
 */
import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { ConfigError, loadConfig } from '@ticketing/platform';
import { loadEventConfig } from '../../services/event-service/src/config';
import { startEventApi } from '../../services/event-service/src/entry-points/api';
import { loadBookingConfig } from '../../services/booking-service/src/config';
import { startBookingApi } from '../../services/booking-service/src/entry-points/api';
import { bookingMigrateConfigSchema } from '../../services/booking-service/src/entry-points/migrate-main';
import { EVENT_TEST_DATABASE_URL, silentLogLevel } from '../support/infra';
import { request } from '../support/http';
import {
  AUDIENCE,
  AttackTally,
  ISSUER,
  JWT_SECRET,
  bearer,
  startJwtServices,
  token,
  type JwtServices,
} from './support/identity-support';

describe('jwt mode refuses forged and unverifiable callers', () => {
  let services: JwtServices;
  beforeAll(async () => {
    services = await startJwtServices('identity');
  });
  afterAll(async () => {
    await services?.stop();
  });

  test('when a caller names a victim with X-User-ID, then every buyer route answers 401 and shows nothing', async () => {
    const victim = randomUUID();
    const tally = new AttackTally('header impersonation in jwt mode');
    const routes: Array<[string, string]> = [
      ['GET', '/api/v1/reservations'],
      ['GET', `/api/v1/tickets/user/${victim}`],
      ['GET', `/api/v1/tickets/${randomUUID()}`],
      ['GET', `/api/v1/tickets/${randomUUID()}/qr`],
      ['POST', `/api/v1/tickets/${randomUUID()}/refund`],
      ['POST', '/api/v1/reservations'],
      ['DELETE', `/api/v1/reservations/${randomUUID()}`],
    ];
    for (const [method, path] of routes) {
      const response = await request(services.bookingUrl, method, path, { headers: { 'x-user-id': victim }, body: method === 'POST' ? {} : undefined });
      expect({ path, status: tally.record(response.status), code: response.body.error?.code }).toEqual({
        path,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
    tally.print();
    expect(tally).toMatchObject({ tried: 7, refused: 7, lost: 0 });
  });

  test('when a token lacks exp, names another issuer or audience, is expired, badly signed, unsigned or names no UUID, then it is refused', async () => {
    const sub = randomUUID();
    const header = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${header({ alg: 'none', typ: 'JWT' })}.${header({ sub, exp: Math.floor(Date.now() / 1000) + 300, iss: ISSUER, aud: AUDIENCE })}.`;
    const valid = await token({ sub });
    const [validHeader, validPayload] = valid.split('.');
    const forged: Array<[string, string]> = [
      ['no exp', await token({ sub, expiresIn: null })],
      ['wrong issuer', await token({ sub, issuer: 'https://evil.example' })],
      ['no issuer', await token({ sub, issuer: null })],
      ['wrong audience', await token({ sub, audience: 'another-api' })],
      ['no audience', await token({ sub, audience: null })],
      ['expired beyond the clock skew', await token({ sub, expiresIn: -120 })],
      ['signed with another secret', await token({ sub, secret: 'another-secret-of-at-least-32-bytes!!' })],
      ['alg none', unsigned],
      ['alg none with the valid payload', `${header({ alg: 'none' })}.${validPayload}.`],
      ['signature stripped', `${validHeader}.${validPayload}.`],
      ['sub not a UUID', await token({ sub: 'admin' })],
      ['garbage', 'not.a.jwt'],
    ];
    const tally = new AttackTally('forged or unverifiable tokens');
    for (const [name, jwt] of forged) {
      const response = await request(services.bookingUrl, 'GET', '/api/v1/reservations', { headers: bearer(jwt) });
      expect({ name, status: tally.record(response.status), code: response.body.error?.code }).toEqual({
        name,
        status: 401,
        code: 'UNAUTHENTICATED',
      });
    }
    tally.print();
    expect(tally).toMatchObject({ tried: forged.length, refused: forged.length, lost: 0 });

    const accepted = await request(services.bookingUrl, 'GET', '/api/v1/reservations', { headers: bearer(valid) });
    expect(accepted.status).toBe(200);
    const withinSkew = await request(services.bookingUrl, 'GET', '/api/v1/reservations', {
      headers: bearer(await token({ sub, expiresIn: -5 })),
    });
    expect(withinSkew.status).toBe(200);
  });

  test('when any /api/internal route of either API is called without the internal token, then it is refused', async () => {
    const session = randomUUID();
    const hold = { reservation_id: randomUUID(), session_seat_ids: [randomUUID()], reserved_until: new Date(Date.now() + 60_000).toISOString() };
    const calls: Array<[string, string, string, unknown]> = [
      [services.eventUrl, 'POST', `/api/internal/sessions/${session}/seats/confirm`, { reservation_id: hold.reservation_id, session_seat_ids: hold.session_seat_ids }],
      [services.eventUrl, 'POST', `/api/internal/sessions/${session}/seats/reserve`, hold],
      [services.eventUrl, 'POST', `/api/internal/sessions/${session}/seats/release`, { reservation_id: hold.reservation_id, session_seat_ids: hold.session_seat_ids }],
      [services.eventUrl, 'POST', '/api/internal/holds/batch', { holds: [{ session_id: session, ...hold }] }],
      [services.eventUrl, 'GET', `/api/internal/sessions/${session}/organizer?user_id=${randomUUID()}`, undefined],
      [services.bookingUrl, 'POST', '/api/internal/reservations/status', { reservation_ids: [hold.reservation_id] }],
    ];
    const headers = bearer(await token({ roles: ['admin'] }));
    for (const [base, method, path, body] of calls) {
      const response = await request(base, method, path, { body, headers });
      expect([path, response.status, response.body.error?.code]).toEqual([path, 401, 'INVALID_INTERNAL_TOKEN']);
    }
  });
});

describe('JWKS (identity provider keys)', () => {
  type Key = { alg: string; kid: string; privateKey: KeyLike };
  let keys: Key[];
  let jwksServer: http.Server;
  let jwksUrl: string;
  let eventApi: Awaited<ReturnType<typeof startEventApi>>;

  beforeAll(async () => {
    keys = [];
    const publicJwks: object[] = [];
    for (const [alg, options] of [
      ['RS256', {}],
      ['ES256', {}],
      ['EdDSA', { crv: 'Ed25519' }],
    ] as const) {
      const pair = await generateKeyPair(alg, options);
      const kid = `${alg}-${randomUUID().slice(0, 8)}`;
      keys.push({ alg, kid, privateKey: pair.privateKey });
      publicJwks.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
    }
    jwksServer = http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: publicJwks }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/realms/ticketing/protocol/openid-connect/certs`;
    eventApi = await startEventApi({
      PORT: 0,
      HOST: '127.0.0.1',
      DATABASE_URL: EVENT_TEST_DATABASE_URL,
      LOG_LEVEL: silentLogLevel,
      AUTH_JWKS_URL: jwksUrl,
      AUTH_JWT_ISSUER: ISSUER,
      AUTH_JWT_AUDIENCE: AUDIENCE,
      INTERNAL_API_TOKEN: 'i'.repeat(32),
    });
  });
  afterAll(async () => {
    await eventApi?.stop();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  const sign = (key: Key, claims: Record<string, unknown> = { roles: ['organizer'] }, kid = key.kid) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid })
      .setSubject(randomUUID())
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(key.privateKey);
  const createOrganizer = (jwt: string) =>
    request(eventApi.url, 'POST', '/api/v1/organizers', { body: { name: 'JWKS Org' }, headers: bearer(jwt) });

  test('when an organizer token is signed by a key of the JWKS (RS256, ES256, EdDSA), then the write is accepted', async () => {
    for (const key of keys) expect({ alg: key.alg, status: (await createOrganizer(await sign(key))).status }).toEqual({ alg: key.alg, status: 201 });
  });

  test('when a token is signed by an unknown key, names another kid, or is HS256 with a public key as secret, then it is refused', async () => {
    const stranger = await generateKeyPair('ES256');
    const unknownKey: Key = { alg: 'ES256', kid: keys[1].kid, privateKey: stranger.privateKey };
    const hsWithSecret = await token({ roles: ['organizer'], secret: JWT_SECRET });
    const tally = new AttackTally('tokens not signed by the identity provider');
    for (const jwt of [await sign(unknownKey), await sign(keys[0], { roles: ['organizer'] }, 'unknown-kid'), hsWithSecret]) {
      const response = await createOrganizer(jwt);
      expect(tally.record(response.status)).toBe(401);
    }
    tally.print();
    expect(tally).toMatchObject({ tried: 3, refused: 3, lost: 0 });
  });
});

describe('production refuses to start insecurely', () => {
  const secure = {
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: 'a'.repeat(32),
    INTERNAL_API_TOKEN: 'b'.repeat(32),
    TICKET_SIGNING_SECRET: 'c'.repeat(32),
    QUEUE_ADMISSION_SECRET: 'q'.repeat(32),
    TICKET_SIGNING_KEYS: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
  /** Every process's loader: event API, consumer and migrations share loadEventConfig; booking API and expiry job share loadBookingConfig. */
  const loaders: Array<[string, (env: NodeJS.ProcessEnv) => unknown]> = [
    ['event API / consumer / migrate', loadEventConfig],
    ['booking API / expire-reservations', loadBookingConfig],
    ['booking migrate', (env) => loadConfig(bookingMigrateConfigSchema, env)],
  ];
  /** The ticket secret is the booking service's alone; the event service never reads it. */
  const readsTicketSecret = (name: string) => name.startsWith('booking');
  /** Waiting-room admission tokens are signed and checked by the booking API (its config is the expiry job's too). */
  const readsAdmissionSecret = (name: string) => name.startsWith('booking API');
  const insecure: Array<[string, NodeJS.ProcessEnv, string]> = [
    ['header identity', { ...secure, AUTH_MODE: 'header' }, 'AUTH_MODE'],
    ['no token verification', { ...secure, AUTH_JWT_SECRET: undefined }, 'AUTH_JWT_SECRET'],
    ['no internal token', { ...secure, INTERNAL_API_TOKEN: undefined }, 'INTERNAL_API_TOKEN'],
    ['short JWT secret', { ...secure, AUTH_JWT_SECRET: 'x' }, 'AUTH_JWT_SECRET'],
    ['short internal token', { ...secure, INTERNAL_API_TOKEN: 'x'.repeat(31) }, 'INTERNAL_API_TOKEN'],
    ['short ticket secret', { ...secure, TICKET_SIGNING_SECRET: 's3cret' }, 'TICKET_SIGNING_SECRET'],
    ['no admission token secret', { ...secure, QUEUE_ADMISSION_SECRET: undefined }, 'QUEUE_ADMISSION_SECRET'],
    ['short admission token secret', { ...secure, QUEUE_ADMISSION_SECRET: 'q'.repeat(31) }, 'QUEUE_ADMISSION_SECRET'],
  ];

  test.each(loaders)('when %s starts in production with every secret set, then it loads', (_name, load) => {
    expect(() => load(secure)).not.toThrow();
    expect(() => load({ ...secure, AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: 'https://idp.example/certs' })).not.toThrow();
  });

  test.each(loaders)('when %s starts in production insecurely, then it refuses with one line naming the variable', (name, load) => {
    const tally = new AttackTally(`insecure production starts of ${name}`);
    for (const [problem, env, variable] of insecure) {
      if (variable === 'TICKET_SIGNING_SECRET' && !readsTicketSecret(name)) continue;
      if (variable === 'QUEUE_ADMISSION_SECRET' && !readsAdmissionSecret(name)) continue;
      let error: unknown;
      try {
        load(env);
      } catch (caught) {
        error = caught;
      }
      tally.record(error instanceof ConfigError ? 400 : 200);
      expect({ problem, error: error instanceof ConfigError && !error.message.includes('\n') && error.message.includes(variable) }).toEqual({
        problem,
        error: true,
      });
    }
    tally.print();
    expect(tally.lost).toBe(0);
  });

  test('when the APIs are started in production with header identity, then they refuse to start', async () => {
    const overrides = { NODE_ENV: 'production', AUTH_MODE: 'header', PORT: 0, HOST: '127.0.0.1', LOG_LEVEL: silentLogLevel } as const;
    await expect(startEventApi(overrides)).rejects.toThrow(/AUTH_MODE/);
    await expect(startBookingApi({ ...overrides, TICKET_SIGNING_SECRET: secure.TICKET_SIGNING_SECRET })).rejects.toThrow(/AUTH_MODE/);
  });

  test('when jwt mode is asked for without a key source, then even development refuses to start', () => {
    expect(() => loadEventConfig({ AUTH_MODE: 'jwt' })).toThrow(/AUTH_JWT_SECRET or AUTH_JWKS_URL/);
    expect(loadEventConfig({}).AUTH_MODE).toBeUndefined();
  });
});
