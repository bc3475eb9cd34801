import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import QRCode from 'qrcode';

/**
 * A ticket code is 128 random bits plus an HMAC over the ticket id and those bits, so it cannot be guessed
 * and a scanner holding TICKET_SIGNING_SECRET can check a code offline. The QR code encodes
 * `TICKET:<ticket id>:<code>`.
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

/** Parses what a scanner read; undefined when it is not a ticket QR. */
export function parseQrContent(content: string): { ticketId: string; code: string } | undefined {
  const match = /^TICKET:([0-9a-f-]{36}):([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(content);
  return match ? { ticketId: match[1], code: match[2] } : undefined;
}

/** Renders the QR PNG (a few ms of CPU; done once per ticket at issue time and stored). */
export function renderQrPng(content: string): Promise<Buffer> {
  return QRCode.toBuffer(content, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 4 });
}

export const pngDataUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

function sign(ticketId: string, nonce: string, secret: string): string {
  return createHmac('sha256', secret).update(`${ticketId}.${nonce}`).digest().subarray(0, 16).toString('base64url');
}
