import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { z } from 'zod';
import { unauthorized } from '@ticketing/platform';

const uuid = z.guid();

/** OpenAPI security schemes: Swagger UI's Authorize button asks for whichever is in force. */
export const USER_ID_SCHEME = 'userId';
export const BEARER_SCHEME = 'bearerAuth';
export const securitySchemes = {
  [USER_ID_SCHEME]: {
    type: 'apiKey',
    in: 'header',
    name: 'X-User-ID',
    description: 'The caller, as a user UUID (accepted while AUTH_JWT_SECRET is not set).',
  },
  [BEARER_SCHEME]: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'An HS256 JWT whose `sub` is the user UUID (required when AUTH_JWT_SECRET is set).',
  },
};

const unauthenticated = (message: string) => unauthorized(message, 'UNAUTHENTICATED');

/**
 * Module guard naming the caller: with AUTH_JWT_SECRET set, a verified `Authorization: Bearer` HS256 JWT
 * (its `sub`, `exp` honoured); otherwise the X-User-ID header. Either way the user id must be a UUID.
 */
export function callerGuard(jwtSecret: string | undefined) {
  return (ctx: Context) => {
    ctx.state.userId = jwtSecret ? userFromBearer(ctx.get('authorization'), jwtSecret) : userFromHeader(ctx.get('x-user-id'));
  };
}

/** The caller named by the guard. */
export const callerId = (ctx: Context): string => ctx.state.userId as string;

function userFromHeader(value: string): string {
  if (!value) throw unauthenticated('X-User-ID header is required');
  if (!uuid.safeParse(value.trim()).success) throw unauthenticated('X-User-ID must be a UUID');
  return value.trim().toLowerCase();
}

const jwtHeaderSchema = z.object({ alg: z.literal('HS256') }).loose();
const jwtPayloadSchema = z
  .object({ sub: z.guid(), exp: z.number().optional(), nbf: z.number().optional() })
  .loose();

function userFromBearer(value: string, secret: string): string {
  const match = /^Bearer\s+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/i.exec(value.trim());
  if (!match) throw unauthenticated('Authorization: Bearer <JWT> is required');
  const [, headerPart, payloadPart, signaturePart] = match;
  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthenticated('Invalid token');
  const header = jwtHeaderSchema.safeParse(decodeJson(headerPart));
  const payload = jwtPayloadSchema.safeParse(decodeJson(payloadPart));
  if (!header.success || !payload.success) throw unauthenticated('Invalid token');
  const now = Date.now() / 1000;
  if (payload.data.exp !== undefined && payload.data.exp <= now) throw unauthenticated('Token expired');
  if (payload.data.nbf !== undefined && payload.data.nbf > now) throw unauthenticated('Token not yet valid');
  return payload.data.sub.toLowerCase();
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
