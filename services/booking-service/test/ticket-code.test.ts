import { randomUUID } from 'node:crypto';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { issueTicketCode, parseQrContent, qrContent, verifyTicketCode } from '../src/domain/ticket-code';
import { pngDataUri, renderQrPng } from '../src/lib/qr-png';

const SECRET = 'test-secret';

describe('ticket codes', () => {
  it('carry 128 random bits and differ for every ticket', () => {
    const codes = new Set(Array.from({ length: 1_000 }, () => issueTicketCode(randomUUID(), SECRET)));
    expect(codes.size).toBe(1_000);
    const [nonce] = [...codes][0].split('.');
    expect(Buffer.from(nonce, 'base64url').length).toBe(16);
  });

  it('verify only for their own ticket and secret', () => {
    const ticketId = randomUUID();
    const code = issueTicketCode(ticketId, SECRET);
    expect(verifyTicketCode(ticketId, code, SECRET)).toBe(true);
    expect(verifyTicketCode(randomUUID(), code, SECRET)).toBe(false);
    expect(verifyTicketCode(ticketId, code, 'another-secret')).toBe(false);
    const [nonce, signature] = code.split('.');
    const tampered = `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}.${signature}`;
    expect(verifyTicketCode(ticketId, tampered, SECRET)).toBe(false);
    expect(verifyTicketCode(ticketId, 'garbage', SECRET)).toBe(false);
  });
});

describe('ticket QR codes', () => {
  it('render a PNG that scans back to TICKET:<id>:<code>', async () => {
    const ticketId = randomUUID();
    const code = issueTicketCode(ticketId, SECRET);
    const png = await renderQrPng(qrContent(ticketId, code));
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);

    const image = PNG.sync.read(png);
    const scanned = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
    expect(scanned?.data).toBe(`TICKET:${ticketId}:${code}`);
    const parsed = parseQrContent(scanned!.data);
    expect(parsed).toEqual({ ticketId, code });
    expect(verifyTicketCode(parsed!.ticketId, parsed!.code, SECRET)).toBe(true);
  });

  it('scan back for any ticket (one fixed mask, whatever the content)', async () => {
    for (let i = 0; i < 40; i++) {
      const ticketId = randomUUID();
      const content = qrContent(ticketId, issueTicketCode(ticketId, SECRET));
      const image = PNG.sync.read(await renderQrPng(content));
      expect(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data).toBe(content);
    }
  });

  it('embed as a data URI', async () => {
    const png = await renderQrPng('TICKET:x:y');
    expect(pngDataUri(png)).toBe(`data:image/png;base64,${png.toString('base64')}`);
  });

  it('reject content that is not a ticket', () => {
    expect(parseQrContent('https://example.com')).toBeUndefined();
  });
});
