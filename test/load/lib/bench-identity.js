'use strict';
/**
 * The bench runs the product as production does (NODE_ENV=production), so callers carry verified bearer
 * tokens: HS256 JWTs signed with the bench's own secret, one per buyer, and an organizer's for the catalog.
 */
const { createHmac, generateKeyPairSync, randomUUID } = require('node:crypto');

/** Secrets the bench gives the processes it starts (production demands 32+ bytes). */
const BENCH_SECRETS = {
  AUTH_JWT_SECRET: 'bench-jwt-secret-0123456789abcdefghijklmn',
  INTERNAL_API_TOKEN: 'bench-internal-token-0123456789abcdefghij',
  TICKET_SIGNING_SECRET: 'bench-ticket-signing-secret-0123456789abcd',
  QUEUE_ADMISSION_SECRET: 'bench-queue-admission-secret-0123456789ab',
  // Ed25519 key that signs ticket codes (production requires one); every process of a run gets this env.
  TICKET_SIGNING_KEYS: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
};

const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const HEADER = encode({ alg: 'HS256', typ: 'JWT' });

/** A token for `userId` valid for the whole run (six hours). */
function benchToken(userId, roles = []) {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${HEADER}.${encode({ sub: userId, roles, iat: now, exp: now + 6 * 3600 })}`;
  return `${unsigned}.${createHmac('sha256', BENCH_SECRETS.AUTH_JWT_SECRET).update(unsigned).digest('base64url')}`;
}

/** Buyers' tokens, newest last: a buyer signs in once and sends the same token with each request (hold, confirm). */
const buyerTokens = new Map();
/** Enough for every buyer between a hold and its confirm in any scenario, without keeping a whole run's. */
const BUYER_TOKENS_KEPT = 20_000;

/** Request headers naming a buyer, with that buyer's one token. */
function buyerHeaders(userId) {
  let token = buyerTokens.get(userId);
  if (!token) {
    token = benchToken(userId);
    if (buyerTokens.size >= BUYER_TOKENS_KEPT) buyerTokens.delete(buyerTokens.keys().next().value);
    buyerTokens.set(userId, token);
  }
  return { authorization: `Bearer ${token}` };
}

/** Request headers of the organizer that builds the catalog. */
const organizerHeaders = () => ({ authorization: `Bearer ${benchToken(randomUUID(), ['organizer'])}` });

module.exports = { BENCH_SECRETS, benchToken, buyerHeaders, organizerHeaders };
