import { z } from 'zod';
import { envInt, envOptionalString } from '../config';

/** Shortest secret accepted in production (HS256 keys and shared tokens: 256 bits). */
export const MIN_SECRET_BYTES = 32;

/** Secrets whose length production checks, whichever of them a process reads. */
const SECRET_VARIABLES = ['AUTH_JWT_SECRET', 'INTERNAL_API_TOKEN', 'TICKET_SIGNING_SECRET'] as const;

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

function safeProtocol(value: string): string {
  try {
    return new URL(value).protocol;
  } catch {
    return '';
  }
}

/**
 * Identity settings every process reads (the API processes use them; the others check them, so a production
 * release can never run one process securely and another not).
 */
export const identityConfigShape = {
  /** header: X-User-ID names the caller (development only); jwt: a verified bearer token. Default: jwt when
   *  a secret or JWKS URL is set or NODE_ENV=production, header otherwise. */
  AUTH_MODE: z.preprocess(emptyToUndefined, z.enum(['header', 'jwt']).optional()),
  AUTH_JWT_SECRET: envOptionalString(),
  AUTH_JWKS_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine((value) => /^https?:$/.test(safeProtocol(value)), 'must be a URL starting with http:// or https://')
      .optional(),
  ),
  AUTH_JWT_ISSUER: envOptionalString(),
  AUTH_JWT_AUDIENCE: envOptionalString(),
  AUTH_CLOCK_SKEW_SECONDS: envInt(30, 0, 300),
  /** How long a verified bearer token is trusted without verifying it again (never past its exp); 0: never. */
  AUTH_TOKEN_CACHE_SECONDS: envInt(60, 0, 3600),
  /** When set, every /api/internal/* request must carry it in X-Internal-Token. */
  INTERNAL_API_TOKEN: envOptionalString(),
};

export interface IdentityConfig {
  NODE_ENV: string;
  AUTH_MODE?: 'header' | 'jwt';
  AUTH_JWT_SECRET?: string;
  AUTH_JWKS_URL?: string;
  AUTH_JWT_ISSUER?: string;
  AUTH_JWT_AUDIENCE?: string;
  AUTH_CLOCK_SKEW_SECONDS: number;
  AUTH_TOKEN_CACHE_SECONDS: number;
  INTERNAL_API_TOKEN?: string;
}

export type AuthMode = 'header' | 'jwt';

export const authModeOf = (config: IdentityConfig): AuthMode =>
  config.AUTH_MODE ??
  (config.NODE_ENV === 'production' || config.AUTH_JWT_SECRET || config.AUTH_JWKS_URL ? 'jwt' : 'header');

/**
 * The refinement every process's config schema runs (zod superRefine): production refuses header identity,
 * unverified tokens, an open internal API and short secrets; jwt mode anywhere needs a key source. Each
 * problem names its variable, so the one-line start-up error says what to fix.
 */
export function checkIdentityConfig(config: IdentityConfig & Record<string, unknown>, ctx: z.RefinementCtx): void {
  const problem = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
  const production = config.NODE_ENV === 'production';
  const mode = authModeOf(config);
  if (config.AUTH_JWT_SECRET && config.AUTH_JWKS_URL) {
    problem('AUTH_JWKS_URL', 'set either AUTH_JWT_SECRET or AUTH_JWKS_URL, not both');
  }
  if (production && mode === 'header') problem('AUTH_MODE', 'header identity is refused when NODE_ENV=production');
  if (mode === 'jwt' && !config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL) {
    problem('AUTH_JWT_SECRET', `AUTH_JWT_SECRET or AUTH_JWKS_URL is required ${production ? 'when NODE_ENV=production' : 'with AUTH_MODE=jwt'}`);
  }
  if (!production) return;
  if (!config.INTERNAL_API_TOKEN) problem('INTERNAL_API_TOKEN', 'is required when NODE_ENV=production');
  for (const variable of SECRET_VARIABLES) {
    const value = config[variable];
    if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
      problem(variable, `must be at least ${MIN_SECRET_BYTES} bytes when NODE_ENV=production`);
    }
  }
}
