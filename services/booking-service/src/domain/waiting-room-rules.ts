import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * The waiting room's pure rules: the fair-start shuffle, how many buyers a tick admits, the admission token and
 * the queue ticket. No Redis, no HTTP; the use cases in waiting-room.ts apply them.
 */

/**
 * Fisher–Yates with crypto.randomInt: every order of the buyers who joined before the opening is equally likely,
 * whatever order they joined in, so joining first (or from many tabs: one place per user) gains nothing.
 */
export function fairStartOrder<T>(joined: readonly T[]): T[] {
  const order = [...joined];
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export interface AdmissionState {
  /** Admissions earned but not yet used (fractional; at most one second's worth). */
  credit: number;
  /** When the previous tick ran (ms since the epoch), or null for the first tick after opening. */
  lastTickMs: number | null;
}

/**
 * Admissions earned since the last tick at `ratePerSecond`: a token bucket holding at most one second's worth,
 * so a rate change applies from the next tick and a pause (no leader for a while) does not release a flood.
 * Returns whole admissions to make now and the credit that remains if all of them are made.
 */
export function admissionsEarned(state: AdmissionState, nowMs: number, ratePerSecond: number): { admit: number; credit: number } {
  const elapsedSeconds = state.lastTickMs === null ? 0 : Math.max(0, nowMs - state.lastTickMs) / 1000;
  const credit = Math.min(Math.max(ratePerSecond, 1), state.credit + elapsedSeconds * ratePerSecond);
  const admit = Math.floor(credit);
  return { admit, credit };
}

/**
 * Admitted buyers who have not held seats yet occupy a slot; at most rate × hold window of them at once, so a
 * buyer who lets the window pass frees a slot for the next one rather than the queue racing ahead of the hall.
 */
export const admissionSlots = (ratePerSecond: number, holdWindowSeconds: number) =>
  Math.max(1, Math.ceil(ratePerSecond * holdWindowSeconds));

/** Seconds until a buyer `ahead` places behind the front is admitted at the current rate. */
export const estimatedWaitSeconds = (ahead: number, ratePerSecond: number) => Math.ceil((ahead + 1) / Math.max(ratePerSecond, 0.001));

// ---- admission token: HMAC-SHA256 over {session, user, expiry}; checked without Redis on every hold.

export interface AdmissionClaims {
  sessionId: string;
  userId: string;
  /** Expiry, seconds since the epoch. */
  exp: number;
}

const base64url = (buffer: Buffer) => buffer.toString('base64url');
const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest();

export function signAdmissionToken(secret: string, claims: AdmissionClaims): string {
  const payload = base64url(Buffer.from(JSON.stringify({ s: claims.sessionId, u: claims.userId, exp: claims.exp })));
  return `${payload}.${base64url(sign(secret, payload))}`;
}

export type AdmissionCheck = { valid: true } | { valid: false; reason: 'missing' | 'malformed' | 'expired' | 'other_user' | 'other_session' };

/** Whether `token` admits `userId` to `sessionId` at `nowSeconds`; the reason names what is wrong otherwise. */
export function checkAdmissionToken(
  secret: string,
  token: string | undefined,
  expected: { sessionId: string; userId: string },
  nowSeconds: number,
): AdmissionCheck {
  if (!token) return { valid: false, reason: 'missing' };
  const [payload, signature, extra] = token.split('.');
  if (!payload || !signature || extra !== undefined) return { valid: false, reason: 'malformed' };
  const given = Buffer.from(signature, 'base64url');
  const wanted = sign(secret, payload);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return { valid: false, reason: 'malformed' };
  let claims: { s?: unknown; u?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return { valid: false, reason: 'malformed' };
  }
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return { valid: false, reason: 'expired' };
  if (claims.u !== expected.userId) return { valid: false, reason: 'other_user' };
  if (claims.s !== expected.sessionId) return { valid: false, reason: 'other_session' };
  return { valid: true };
}

// ---- queue ticket: names a user's place in a session's queue (session and user ids, 32 bytes, base64url).

const hex = (uuid: string) => uuid.replace(/-/g, '');
const uuidOf = (bytes: Buffer) => {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const QUEUE_TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function queueTicketOf(sessionId: string, userId: string): string {
  return base64url(Buffer.concat([Buffer.from(hex(sessionId), 'hex'), Buffer.from(hex(userId), 'hex')]));
}

export function parseQueueTicket(ticket: string): { sessionId: string; userId: string } | undefined {
  if (!QUEUE_TICKET_PATTERN.test(ticket)) return undefined;
  const bytes = Buffer.from(ticket, 'base64url');
  if (bytes.length !== 32) return undefined;
  return { sessionId: uuidOf(bytes.subarray(0, 16)), userId: uuidOf(bytes.subarray(16)) };
}
