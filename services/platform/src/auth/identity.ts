import type { Context } from 'koa';
import { Counter, type Registry } from 'prom-client';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { AppError, forbidden, serviceUnavailable, unauthorized } from '../errors';
import { authModeOf, type AuthMode, type IdentityConfig } from './config';
import { VerifiedTokens } from './verified-tokens';

/** Roles from the RFC 9068 `roles` claim; any authenticated user is a buyer and needs none. */
export const ROLES = ['organizer', 'door', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: set on ctx.state.caller by the identity guard. */
export interface Caller {
  userId: string;
  roles: readonly Role[];
}

/**
 * Who performs a catalog or pricing write. `anyone` is development's open catalog (header mode): no role or
 * ownership check applies, the user is known only if X-User-ID was sent. `user` is a verified caller.
 */
export type Actor = { kind: 'anyone'; userId?: string } | { kind: 'user'; caller: Caller };

const HS256_ALGORITHMS = ['HS256'];
/** What Keycloak, Auth0 and most identity providers sign access tokens with. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];

const uuid = z.guid();
const claimsSchema = z.object({
  sub: z.guid(),
  roles: z.union([z.array(z.string()), z.string()]).optional(),
});

const unauthenticated = (message: string) => unauthorized(message, 'UNAUTHENTICATED');

export interface Identity {
  mode: AuthMode;
  /** Names the caller of a request or throws 401. */
  authenticate(ctx: Context): Promise<Caller>;
  /** Verifies a bearer token (without the "Bearer " prefix) or throws 401. */
  verifyToken(token: string): Promise<Caller>;
}

/** Most verified tokens one process keeps (a few hundred bytes each). */
const VERIFIED_TOKENS_MAX_ENTRIES = 10_000;

type TokenCheck = 'remembered' | 'verified' | 'refused';

function tokenCheckCounter(registry: Registry | undefined): (outcome: TokenCheck) => void {
  if (!registry) return () => undefined;
  const counter = new Counter({
    name: 'auth_bearer_token_checks_total',
    help: 'Bearer tokens checked: remembered (verified earlier, AUTH_TOKEN_CACHE_SECONDS), verified in full, refused',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['remembered', 'verified', 'refused'] as const) counter.inc({ outcome }, 0);
  return (outcome) => counter.inc({ outcome });
}

export interface IdentityOptions {
  /** Where auth_bearer_token_checks_total is registered (none: not counted). */
  registry?: Registry;
  /** The clock tokens are checked against (tests move it). */
  now?: () => number;
}

/** Builds the identity of a process from its validated config (see checkIdentityConfig). */
export function createIdentity(config: IdentityConfig, options: IdentityOptions = {}): Identity {
  const mode = authModeOf(config);
  const key = keySource(config);
  const now = options.now ?? Date.now;
  const verified = new VerifiedTokens<Caller>({
    maxEntries: VERIFIED_TOKENS_MAX_ENTRIES,
    maxAgeMs: config.AUTH_TOKEN_CACHE_SECONDS * 1000,
    now,
  });
  const counted = tokenCheckCounter(options.registry);
  const verifyToken = async (token: string): Promise<Caller> => {
    if (!key) throw unauthenticated('Bearer tokens are not configured');
    const known = verified.get(token);
    if (known) {
      counted('remembered');
      return known;
    }
    try {
      const { payload } = await jwtVerify(token, key.getKey, {
        algorithms: key.algorithms,
        requiredClaims: ['exp', 'sub'],
        issuer: config.AUTH_JWT_ISSUER,
        audience: config.AUTH_JWT_AUDIENCE,
        clockTolerance: config.AUTH_CLOCK_SKEW_SECONDS,
        currentDate: new Date(now()),
      });
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw unauthenticated('Token claims are invalid: sub must be a user UUID, roles a list of names');
      const caller: Caller = { userId: claims.data.sub.toLowerCase(), roles: rolesOf(claims.data.roles) };
      // Kept only until exp itself: past it, the token is verified again (and the clock tolerance applies there).
      verified.remember(token, caller, (payload.exp as number) * 1000);
      counted('verified');
      return caller;
    } catch (error) {
      counted('refused');
      if (error instanceof AppError) throw error;
      if (keysUnreachable(error)) {
        throw serviceUnavailable('IDENTITY_PROVIDER_UNAVAILABLE', 'The identity provider’s keys cannot be fetched; try again shortly');
      }
      throw unauthenticated(tokenProblem(error));
    }
  };
  return {
    mode,
    verifyToken,
    authenticate: (ctx) =>
      mode === 'jwt' ? verifyToken(bearerToken(ctx.get('authorization'))) : Promise.resolve(callerFromHeader(ctx.get('x-user-id'))),
  };
}

type KeySource = { getKey: JWTVerifyGetKey; algorithms: string[] };

function keySource(config: IdentityConfig): KeySource | undefined {
  if (config.AUTH_JWT_SECRET) {
    const secret = new TextEncoder().encode(config.AUTH_JWT_SECRET);
    return { getKey: () => secret, algorithms: HS256_ALGORITHMS };
  }
  if (config.AUTH_JWKS_URL) {
    // Keys are fetched on first use, cached, and refetched (rate-limited) when a token names an unknown kid.
    return { getKey: createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), { timeoutDuration: 5_000 }), algorithms: JWKS_ALGORITHMS };
  }
  return undefined;
}

/** The JWKS could not be fetched (timeout, refused, not a key set): an outage, not the caller's fault. */
const keysUnreachable = (error: unknown) =>
  error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || !(error instanceof joseErrors.JOSEError);

function tokenProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'Token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `Token claim "${error.claim}" ${error.reason === 'missing' ? 'is missing' : 'is not accepted'}`;
  return 'Invalid token';
}

function rolesOf(claim: string[] | string | undefined): Role[] {
  const names = typeof claim === 'string' ? claim.split(/\s+/) : (claim ?? []);
  return ROLES.filter((role) => names.includes(role));
}

function bearerToken(header: string): string {
  const match = /^Bearer\s+([A-Za-z0-9_.-]+)$/i.exec(header.trim());
  if (!match) throw unauthenticated('Authorization: Bearer <JWT> is required');
  return match[1];
}

function callerFromHeader(value: string): Caller {
  if (!value) throw unauthenticated('X-User-ID header is required');
  if (!uuid.safeParse(value.trim()).success) throw unauthenticated('X-User-ID must be a UUID');
  return { userId: value.trim().toLowerCase(), roles: [] };
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Module guard: every request must name its caller (ctx.state.caller). */
export function requireCaller(identity: Identity) {
  return async (ctx: Context) => {
    ctx.state.caller = await identity.authenticate(ctx);
  };
}

/**
 * Module guard for public resources with protected writes (the catalog, price tiers): reads need nobody;
 * writes need a verified caller in jwt mode and nobody in header mode (development's open catalog, where an
 * X-User-ID, if sent, still names the user).
 */
export function requireCallerForWrites(identity: Identity) {
  return async (ctx: Context) => {
    ctx.state.openCatalog = identity.mode === 'header';
    if (READ_METHODS.has(ctx.method)) return;
    if (identity.mode === 'jwt') {
      ctx.state.caller = await identity.authenticate(ctx);
      return;
    }
    const header = ctx.get('x-user-id').trim();
    if (uuid.safeParse(header).success) ctx.state.caller = { userId: header.toLowerCase(), roles: [] };
  };
}

/** The caller named by the guard (401 if none). */
export function callerOf(ctx: Context): Caller {
  const caller = ctx.state.caller as Caller | undefined;
  if (!caller) throw unauthenticated('Authentication is required');
  return caller;
}

/** The actor of a write behind requireCallerForWrites. */
export function actorOf(ctx: Context): Actor {
  if (ctx.state.openCatalog) return { kind: 'anyone', userId: (ctx.state.caller as Caller | undefined)?.userId };
  return { kind: 'user', caller: callerOf(ctx) };
}

export const hasRole = (caller: Caller, ...roles: Role[]) => roles.some((role) => caller.roles.includes(role));

/** 403 unless the caller has one of the roles. */
export function requireRole(caller: Caller, ...roles: Role[]): void {
  if (!hasRole(caller, ...roles)) throw forbidden(`Requires the ${roles.join(' or ')} role`);
}

/** OpenAPI security schemes, so Swagger UI's Authorize button asks for what is in force. */
export const USER_ID_SCHEME = 'userId';
export const BEARER_SCHEME = 'bearerAuth';
export function identitySecurityScheme(mode: AuthMode): { name: string; scheme: Record<string, unknown> } {
  return mode === 'jwt'
    ? {
        name: BEARER_SCHEME,
        scheme: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A JWT whose `sub` is the user UUID, with `exp`; roles in the `roles` claim (organizer, door, admin).',
        },
      }
    : {
        name: USER_ID_SCHEME,
        scheme: {
          type: 'apiKey',
          in: 'header',
          name: 'X-User-ID',
          description: 'The caller, as a user UUID (development mode only; production needs a bearer token).',
        },
      };
}

/** Development's header identity is worth a warning at every start: nothing about the caller is verified. */
export function warnIfUnverified(identity: Identity, logger: { warn(message: string): void }): void {
  if (identity.mode === 'header') {
    logger.warn('Development identity: X-User-ID names the caller and the catalog is open to anyone (AUTH_MODE=header); never run this in production');
  }
}
