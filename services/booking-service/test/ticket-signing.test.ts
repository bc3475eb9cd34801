import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import {
  createTicketKeyRing,
  DEV_TICKET_KID,
  InvalidTicketCode,
  jwkThumbprint,
  parseTicketSigningKeys,
  verifyTicketCodeWithJwks,
  type TicketClaims,
} from '../src/domain/ticket-signing';

async function ed25519Jwk(kid: string) {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), kid };
}
const publicOnly = ({ d: _d, ...jwk }: Record<string, unknown>) => jwk;

const claims = (): TicketClaims => ({ ticketId: randomUUID(), sessionId: randomUUID(), row: '3', seat: '12' });

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InvalidTicketCode) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('ticket codes (Ed25519 JWS)', () => {
  test('when a code is signed, then it verifies with nothing but the published JWKS and carries ticket, session and seat', async () => {
    const ring = createTicketKeyRing({ keys: JSON.stringify([await ed25519Jwk('k1')]) });
    const issued = claims();
    const code = await ring.sign({ ...issued, expiresAt: Math.floor(Date.now() / 1000) + 3600 });

    const [header] = code.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'EdDSA', kid: 'k1', typ: 'ticket+jwt' });
    const jwks = JSON.parse(JSON.stringify(ring.jwks()));
    expect(await verifyTicketCodeWithJwks(code, jwks)).toMatchObject(issued);
  });

  test('when the JWKS is published, then no private part is in it', async () => {
    const ring = createTicketKeyRing({ keys: JSON.stringify([await ed25519Jwk('new'), await ed25519Jwk('old')]) });
    const { keys } = ring.jwks();
    expect(keys.map((key) => key.kid)).toEqual(['new', 'old']);
    for (const key of keys) {
      expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      expect(key).not.toHaveProperty('d');
    }
  });

  test('when a payload is tampered with or the signature is another key’s, then the code is refused', async () => {
    const ring = createTicketKeyRing({ keys: JSON.stringify([await ed25519Jwk('k1')]) });
    const forger = createTicketKeyRing({ keys: JSON.stringify([await ed25519Jwk('k1')]) });
    const code = await ring.sign(claims());
    const [header, payload, signature] = code.split('.');
    const altered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), seat: '1' })).toString('base64url');

    expect(await reasonOf(ring.verify(`${header}.${altered}.${signature}`))).toBe('bad_signature');
    expect(await reasonOf(ring.verify(await forger.sign(claims())))).toBe('bad_signature');
    expect(await reasonOf(ring.verify('garbage'))).toBe('malformed');
    expect(await reasonOf(ring.verify(`${header}.${payload}`))).toBe('malformed');
  });

  test('when the code names an unknown kid, is expired, or is not a ticket token, then it is refused', async () => {
    const k1 = await ed25519Jwk('k1');
    const ring = createTicketKeyRing({ keys: JSON.stringify([k1]) });
    const stranger = createTicketKeyRing({ keys: JSON.stringify([await ed25519Jwk('k9')]) });
    expect(await reasonOf(ring.verify(await stranger.sign(claims())))).toBe('unknown_key');

    const expired = await ring.sign({ ...claims(), expiresAt: Math.floor(Date.now() / 1000) - 3600 });
    expect(await reasonOf(ring.verify(expired))).toBe('expired');

    const { SignJWT, importJWK } = await import('jose');
    const notATicket = await new SignJWT({ sid: randomUUID(), row: '1', seat: '1' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject(randomUUID())
      .sign(await importJWK(k1, 'EdDSA'));
    expect(await reasonOf(ring.verify(notATicket))).toBe('wrong_type');
  });

  test('when keys rotate, then the previous key’s codes still verify and a removed key’s codes are refused', async () => {
    const [k1, k2] = [await ed25519Jwk('k1'), await ed25519Jwk('k2')];
    const before = createTicketKeyRing({ keys: JSON.stringify([k1]) });
    const oldCode = await before.sign(claims());

    const rotated = createTicketKeyRing({ keys: JSON.stringify([k2, publicOnly(k1)]) });
    expect(rotated.activeKid).toBe('k2');
    await expect(rotated.verify(oldCode)).resolves.toBeDefined();
    const newCode = await rotated.sign(claims());
    expect(JSON.parse(Buffer.from(newCode.split('.')[0], 'base64url').toString()).kid).toBe('k2');

    const retired = createTicketKeyRing({ keys: JSON.stringify([k2]) });
    expect(await reasonOf(retired.verify(oldCode))).toBe('unknown_key');
    await expect(retired.verify(newCode)).resolves.toBeDefined();
  });

  test('when keys are PEM, then they are named by (16 characters of) their RFC 7638 thumbprint and the first private key signs', async () => {
    const a = generateKeyPairSync('ed25519');
    const b = generateKeyPairSync('ed25519');
    const pem = [
      a.privateKey.export({ format: 'pem', type: 'pkcs8' }),
      b.publicKey.export({ format: 'pem', type: 'spki' }),
    ].join('\n');
    const parsed = parseTicketSigningKeys(pem);
    expect(parsed.keys).toHaveLength(2);
    expect(parsed.activeKid).toBe((await jwkThumbprint(a.publicKey.export({ format: 'jwk' }) as never)).slice(0, 16));
    expect(parsed.keys[1].privateKey).toBeUndefined();
  });

  test('when the key setting is wrong, then parsing names the problem', async () => {
    const k1 = await ed25519Jwk('k1');
    expect(() => parseTicketSigningKeys('not keys')).toThrow(/neither JSON/);
    expect(() => parseTicketSigningKeys(JSON.stringify([publicOnly(k1)]))).toThrow(/no private key/);
    expect(() => parseTicketSigningKeys(JSON.stringify([k1]), 'k7')).toThrow(/active kid k7/);
    expect(() => parseTicketSigningKeys(JSON.stringify([k1, k1]))).toThrow(/same kid/);
    expect(() => parseTicketSigningKeys(JSON.stringify([{ kty: 'EC', crv: 'P-256', kid: 'e' }]))).toThrow(/not an Ed25519/);
    const other = await ed25519Jwk('k1');
    expect(() => parseTicketSigningKeys(JSON.stringify([{ ...k1, x: other.x }]))).toThrow(/x does not match d/);
  });

  test('when no keys are configured, then the development key is the same in every process', async () => {
    const first = createTicketKeyRing({});
    const second = createTicketKeyRing({});
    expect(first.development).toBe(true);
    expect(first.activeKid).toBe(DEV_TICKET_KID);
    expect(second.jwks()).toEqual(first.jwks());
    await expect(second.verify(await first.sign(claims()))).resolves.toBeDefined();
  });
});
