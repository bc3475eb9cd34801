import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

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

const QR_SCALE = 4;
const QR_MARGIN = 2;
/**
 * A fixed mask: every mask is valid and scanners read all eight, and choosing one saves qrcode's search,
 * which scores all eight (most of the CPU a QR code costs).
 */
const QR_MASK_PATTERN = 2;

/**
 * Renders the QR code as a 1-bit grayscale PNG. The matrix comes from qrcode, given the content as one byte
 * segment and a fixed mask so it skips the segment optimisation and the mask search; the PNG is encoded
 * here (one deflate call) because qrcode's own PNG path through pngjs costs far more CPU than the QR itself.
 * Done once per ticket at issue time and stored.
 */
export async function renderQrPng(content: string): Promise<Buffer> {
  const { modules } = QRCode.create([{ data: Buffer.from(content, 'utf8'), mode: 'byte' }], {
    errorCorrectionLevel: 'M',
    maskPattern: QR_MASK_PATTERN,
  });
  const size = modules.size;
  const width = (size + 2 * QR_MARGIN) * QR_SCALE;
  const stride = 1 + Math.ceil(width / 8);
  const raw = Buffer.alloc(stride * width, 0xff);
  for (let y = 0; y < width; y++) raw[y * stride] = 0; // filter: none
  const line = Buffer.alloc(stride);
  for (let my = 0; my < size; my++) {
    // One pixel row per module row, copied QR_SCALE times.
    line.fill(0xff);
    line[0] = 0;
    for (let mx = 0; mx < size; mx++) {
      if (!modules.get(my, mx)) continue;
      const left = (mx + QR_MARGIN) * QR_SCALE;
      for (let x = left; x < left + QR_SCALE; x++) line[1 + (x >> 3)] &= ~(0x80 >> (x & 7));
    }
    const top = (my + QR_MARGIN) * QR_SCALE;
    for (let y = top; y < top + QR_SCALE; y++) line.copy(raw, y * stride);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(width, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // grayscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'ascii');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

export const pngDataUri = (png: Buffer) => `data:image/png;base64,${png.toString('base64')}`;

function sign(ticketId: string, nonce: string, secret: string): string {
  return createHmac('sha256', secret).update(`${ticketId}.${nonce}`).digest().subarray(0, 16).toString('base64url');
}
