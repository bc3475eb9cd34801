/**
 * Verified-identity test set-up shared by the identity and ownership findings: the event and booking APIs
 * in-process with AUTH_JWT_SECRET and INTERNAL_API_TOKEN (jwt mode, as production runs them), and tokens.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { startEventApi } from '../../../services/event-service/src/entry-points/api';
import { migrateEventDatabase } from '../../../services/event-service/src/data-access/database';
import { startBookingApi } from '../../../services/booking-service/src/entry-points/api';
import { migrateBookingDatabase } from '../../../services/booking-service/src/data-access/database';
import {
  BOOKING_TEST_DATABASE_URL,
  EVENT_TEST_DATABASE_URL,
  RABBITMQ_URL,
  REDIS_URL,
  silentLogLevel,
  uniqueBrokerNamespace,
} from '../../support/infra';

export const JWT_SECRET = 'identity-test-jwt-secret-0123456789abcdef';
export const INTERNAL_TOKEN = 'identity-test-internal-token-0123456789';
export const ISSUER = 'https://idp.example.test/realms/ticketing';
export const AUDIENCE = 'ticketing-api';

export interface TokenOptions {
  sub?: string;
  roles?: string[];
  /** Seconds from now; null leaves `exp` out. */
  expiresIn?: number | null;
  issuer?: string | null;
  audience?: string | null;
  secret?: string;
}

/** An HS256 access token as an identity provider would issue it (RFC 9068 `roles`). */
export async function token(options: TokenOptions = {}): Promise<string> {
  const jwt = new SignJWT(options.roles ? { roles: options.roles } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject(options.sub ?? randomUUID())
    .setIssuedAt();
  if (options.expiresIn !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 300));
  if (options.issuer !== null) jwt.setIssuer(options.issuer ?? ISSUER);
  if (options.audience !== null) jwt.setAudience(options.audience ?? AUDIENCE);
  return jwt.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

export const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

/** A user with a token for the given roles. */
export async function user(roles: string[] = []) {
  const id = randomUUID();
  return { id, headers: bearer(await token({ sub: id, roles })) };
}

export const jwtSettings = {
  AUTH_JWT_SECRET: JWT_SECRET,
  AUTH_JWT_ISSUER: ISSUER,
  AUTH_JWT_AUDIENCE: AUDIENCE,
  INTERNAL_API_TOKEN: INTERNAL_TOKEN,
} as const;

export interface JwtServices {
  eventUrl: string;
  bookingUrl: string;
  eventDb: Awaited<ReturnType<typeof startEventApi>>['db'];
  bookingDb: Awaited<ReturnType<typeof startBookingApi>>['db'];
  stop(): Promise<void>;
}

/** Event API and booking API in jwt mode on free ports, against the (suffixed) test databases. */
export async function startJwtServices(label: string, settings: Record<string, string> = jwtSettings): Promise<JwtServices> {
  await Promise.all([migrateEventDatabase(EVENT_TEST_DATABASE_URL), migrateBookingDatabase(BOOKING_TEST_DATABASE_URL)]);
  const common = { LOG_LEVEL: silentLogLevel, HOST: '127.0.0.1', PORT: 0, RABBITMQ_URL, ...settings } as const;
  const eventApi = await startEventApi({ ...common, DATABASE_URL: EVENT_TEST_DATABASE_URL });
  const bookingApi = await startBookingApi({
    ...common,
    DATABASE_URL: BOOKING_TEST_DATABASE_URL,
    REDIS_URL,
    EVENT_SERVICE_URL: eventApi.url,
    EXPIRY_SWEEP_INTERVAL_SECONDS: 0,
    brokerNamespace: uniqueBrokerNamespace(label),
  });
  return {
    eventUrl: eventApi.url,
    bookingUrl: bookingApi.url,
    eventDb: eventApi.db,
    bookingDb: bookingApi.db,
    stop: async () => {
      await bookingApi.stop();
      await eventApi.stop();
    },
  };
}

/** Tally of an attack: requests tried, refused (4xx), lost (an attacker write that went through: must be 0). */
export class AttackTally {
  tried = 0;
  refused = 0;
  lost = 0;
  constructor(readonly name: string) {}
  record(status: number): number {
    this.tried++;
    if (status >= 400 && status < 500) this.refused++;
    else if (status < 300) this.lost++;
    return status;
  }
  print(): string {
    const line = `${this.name}: tried ${this.tried}, refused ${this.refused}, lost ${this.lost}`;
    console.log(line);
    return line;
  }
}
