/**
 * QR codes as small PNG images (what a ticket carries in `qr_code`). No ticket rules here: the text to encode
 * comes from domain/ticket-code.ts.
 */
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';

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
