import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWK } from 'jose';
import { z } from 'zod';

/**
 * Ticket codes are compact JWTs signed with Ed25519 (JWS `alg: EdDSA`, `kid` in the header, `typ: ticket+jwt`
 * so an identity token can never pass for a ticket). A scanner needs nothing but the published JWKS to
 * verify one. Claims: `sub` ticket id, `sid` session id, `row`/`seat` the seat label, `iat`, and `exp` (the
 * session start plus TICKET_CODE_VALID_HOURS_AFTER_START) when the session start is known.
 */
export const TICKET_CODE_TYPE = 'ticket+jwt';
export const TICKET_CODE_ALGORITHM = 'EdDSA';
/** Scanners' clocks drift; a code is still accepted this long after its `exp`. */
export const TICKET_CODE_CLOCK_TOLERANCE_SECONDS = 60;

export interface TicketClaims {
  ticketId: string;
  sessionId: string;
  row: string;
  seat: string;
  /** Unix seconds after which the code no longer admits (absent: no expiry). */
  expiresAt?: number;
}

export interface PublicTicketJwk extends JWK {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: typeof TICKET_CODE_ALGORITHM;
  use: 'sig';
}

export interface TicketKeyRing {
  /** The kid of the key that signs new codes. */
  readonly activeKid: string;
  /** True when the ring is the development key (no TICKET_SIGNING_KEYS). */
  readonly development: boolean;
  sign(claims: TicketClaims, now?: Date): Promise<string>;
  /** The claims of a code signed by one of the ring's keys, or throws InvalidTicketCode. */
  verify(code: string, now?: Date): Promise<TicketClaims>;
  /** Every key's public half, the active one first: what GET /ticket-keys publishes. */
  jwks(): { keys: PublicTicketJwk[] };
}

export type InvalidCodeReason = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'wrong_type';

export class InvalidTicketCode extends Error {
  constructor(readonly reason: InvalidCodeReason) {
    super(`Invalid ticket code (${reason})`);
  }
}

interface RingKey {
  kid: string;
  publicJwk: PublicTicketJwk;
  privateKey?: KeyObject;
}

const claimsSchema = z.object({
  sub: z.guid(),
  sid: z.guid(),
  row: z.string(),
  seat: z.string(),
  exp: z.number().optional(),
});

/**
 * Verifies a ticket code with nothing but a JWKS, as an offline scanner would (the server uses the same path).
 */
export function verifyTicketCodeWithJwks(code: string, jwks: { keys: JWK[] }, now = new Date()): Promise<TicketClaims> {
  return verifyWithKeySet(code, createLocalJWKSet(jwks), now);
}

/** The key set built once (jose caches each imported key in it), so a scan does not re-import keys. */
async function verifyWithKeySet(code: string, keySet: ReturnType<typeof createLocalJWKSet>, now: Date): Promise<TicketClaims> {
  let payload: unknown;
  try {
    // Every ticket code names its key; without a kid a one-key JWKS would be tried anyway, so refuse it here.
    if (!decodeProtectedHeader(code).kid) throw new InvalidTicketCode('unknown_key');
    ({ payload } = await jwtVerify(code, keySet, {
      algorithms: [TICKET_CODE_ALGORITHM],
      typ: TICKET_CODE_TYPE,
      currentDate: now,
      clockTolerance: TICKET_CODE_CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    throw new InvalidTicketCode(reasonOf(error));
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw new InvalidTicketCode('malformed');
  const { sub, sid, row, seat, exp } = claims.data;
  return { ticketId: sub.toLowerCase(), sessionId: sid.toLowerCase(), row, seat, ...(exp !== undefined ? { expiresAt: exp } : {}) };
}

function reasonOf(error: unknown): InvalidCodeReason {
  if (error instanceof InvalidTicketCode) return error.reason;
  if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) return 'unknown_key';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'typ') return 'wrong_type';
  return 'malformed';
}

const THUMBPRINT_KID_LENGTH = 16;
const pemBlock = /-----BEGIN (?:PRIVATE|PUBLIC) KEY-----[\s\S]+?-----END (?:PRIVATE|PUBLIC) KEY-----/g;

/**
 * Reads TICKET_SIGNING_KEYS: a JSON array of Ed25519 JWKs, a JWKS (`{"keys": [...]}`), or one or more PEM blocks
 * (PKCS#8 private / SPKI public keys, e.g. from `openssl genpkey -algorithm ed25519`). Private keys can sign,
 * public-only keys just keep verifying (the previous keys of a rotation). A JWK's `kid` is used as given; a key
 * without one (every PEM) is named by the first 16 characters of its RFC 7638 thumbprint. The active key is `activeKid` or else the first
 * private key. Throws an Error naming the problem.
 */
export function parseTicketSigningKeys(text: string, activeKid?: string): { activeKid: string; keys: RingKey[] } {
  const trimmed = text.trim();
  const keyObjects: { key: KeyObject; kid?: string }[] = [];
  if (trimmed.startsWith('-----')) {
    const blocks = trimmed.match(pemBlock) ?? [];
    if (!blocks.length) throw new Error('holds no PEM key');
    for (const block of blocks) {
      keyObjects.push({ key: block.includes('PRIVATE') ? createPrivateKey(block) : createPublicKey(block) });
    }
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new Error('is neither JSON (JWK array or JWKS) nor PEM');
    }
    const jwks = Array.isArray(parsed) ? parsed : (parsed as { keys?: unknown })?.keys;
    if (!Array.isArray(jwks) || !jwks.length) throw new Error('must be a non-empty JWK array or JWKS');
    for (const jwk of jwks as JWK[]) {
      if (jwk?.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new Error(`key ${jwk?.kid ?? '?'} is not an Ed25519 (OKP) JWK`);
      const key = jwk.d ? createPrivateKey({ key: jwk as never, format: 'jwk' }) : createPublicKey({ key: jwk as never, format: 'jwk' });
      if (jwk.d && jwk.x && publicJwkOf(key).x !== jwk.x) throw new Error(`key ${jwk.kid ?? '?'}: x does not match d`);
      keyObjects.push({ key, kid: jwk.kid });
    }
  }
  const keys: RingKey[] = keyObjects.map(({ key, kid }) => {
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('holds a key that is not Ed25519');
    const base = publicJwkOf(key);
    // 16 characters (96 bits) of the thumbprint tell a handful of keys apart and keep the QR code small.
    const name = kid ?? thumbprintSync(base).slice(0, THUMBPRINT_KID_LENGTH);
    return {
      kid: name,
      publicJwk: { ...base, kid: name, alg: TICKET_CODE_ALGORITHM, use: 'sig' },
      ...(key.type === 'private' ? { privateKey: key } : {}),
    };
  });
  const kids = new Set(keys.map((key) => key.kid));
  if (kids.size !== keys.length) throw new Error('names two keys with the same kid');
  const active = activeKid ? keys.find((key) => key.kid === activeKid) : keys.find((key) => key.privateKey);
  if (!active) throw new Error(activeKid ? `has no key with the active kid ${activeKid}` : 'has no private key to sign with');
  if (!active.privateKey) throw new Error(`active key ${active.kid} is public only: it cannot sign`);
  // The active key first: it is the one scanners meet most.
  return { activeKid: active.kid, keys: [active, ...keys.filter((key) => key !== active)] };
}

function publicJwkOf(key: KeyObject): { kty: 'OKP'; crv: 'Ed25519'; x: string } {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string };
  return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
}

/** RFC 7638 thumbprint of an OKP key: SHA-256 over the required members in lexical order. */
function thumbprintSync(jwk: { crv: string; kty: string; x: string }): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
}

/** The same thumbprint through jose, for tests and tooling that want the library's answer. */
export const jwkThumbprint = (jwk: JWK) => calculateJwkThumbprint(jwk, 'sha256');

/** Ed25519 PKCS#8 DER is this fixed prefix followed by the 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
export const DEV_TICKET_KID = 'dev-ticket-key';

/**
 * Development's key: derived from a fixed seed so codes stay valid across restarts and processes. Anyone can
 * derive it (the seed is in the source): production refuses to start without TICKET_SIGNING_KEYS.
 */
export function developmentTicketKeys(): { activeKid: string; keys: RingKey[] } {
  const seed = createHash('sha256').update('ticketing development ticket signing key').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return {
    activeKid: DEV_TICKET_KID,
    keys: [{ kid: DEV_TICKET_KID, privateKey, publicJwk: { ...publicJwkOf(privateKey), kid: DEV_TICKET_KID, alg: 'EdDSA', use: 'sig' } }],
  };
}

export function createTicketKeyRing(source: { keys?: string; activeKid?: string }): TicketKeyRing {
  const { activeKid, keys } = source.keys ? parseTicketSigningKeys(source.keys, source.activeKid) : developmentTicketKeys();
  const active = keys[0];
  const jwks = { keys: keys.map((key) => key.publicJwk) };
  const keySet = createLocalJWKSet(jwks);
  return {
    activeKid,
    development: !source.keys,
    async sign(claims, now = new Date()) {
      const token = new SignJWT({ sid: claims.sessionId, row: claims.row, seat: claims.seat })
        .setProtectedHeader({ alg: TICKET_CODE_ALGORITHM, kid: activeKid, typ: TICKET_CODE_TYPE })
        .setSubject(claims.ticketId)
        .setIssuedAt(Math.floor(now.getTime() / 1000));
      if (claims.expiresAt !== undefined) token.setExpirationTime(claims.expiresAt);
      return token.sign(active.privateKey as KeyObject);
    },
    verify: (code, now = new Date()) => verifyWithKeySet(code, keySet, now),
    jwks: () => ({ keys: jwks.keys.map((key) => ({ ...key })) }),
  };
}
