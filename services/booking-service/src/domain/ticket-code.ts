import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Legacy ticket codes (tickets issued before Ed25519-signed codes, see ticket-signing.ts): 128 random bits plus
 * an HMAC over the ticket id and those bits; the QR code encodes `TICKET:<ticket id>:<code>`. New tickets are
 * no longer issued with them; check-in still verifies them online while TICKET_SIGNING_SECRET is set.
 */
export function issueTicketCode(ticketId: string, secret: string): string {
  const nonce = randomBytes(16).toString('base64url');
  return `${nonce}.${sign(ticketId, nonce, secret)}`;
}

export function verifyTicketCode(ticketId: string, code: string, secret: string): boolean {
  const [nonce, signature, ...rest] = code.split('.');
  if (!nonce || !signature || rest.length > 0) return false;
  const expected = Buffer.from(sign(ticketId, nonce, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export const qrContent = (ticketId: string, code: string) => `TICKET:${ticketId}:${code}`;

/** A legacy code is `<nonce>.<hmac>` (two parts); a signed code is a compact JWS (three). */
export const isLegacyTicketCode = (storedCode: string) => storedCode.split('.').length === 2;

/** The text a ticket's QR code holds: its signed code, or a legacy ticket's TICKET:<id>:<code>. */
export const qrTextOf = (ticketId: string, storedCode: string) =>
  isLegacyTicketCode(storedCode) ? qrContent(ticketId, storedCode) : storedCode;

/** Parses what a scanner read; undefined when it is not a ticket QR. */
export function parseQrContent(content: string): { ticketId: string; code: string } | undefined {
  const match = /^TICKET:([0-9a-f-]{36}):([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(content);
  return match ? { ticketId: match[1], code: match[2] } : undefined;
}

function sign(ticketId: string, nonce: string, secret: string): string {
  return createHmac('sha256', secret).update(`${ticketId}.${nonce}`).digest().subarray(0, 16).toString('base64url');
}
