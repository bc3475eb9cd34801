import type { Context } from 'koa';
import coBody from 'co-body';
import { AppError } from '../errors';

interface BodyParseError extends Error {
  status?: number;
  type?: string;
  limit?: number;
  code?: string;
}

/** application/json and the structured-syntax suffix (application/problem+json, …). */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/i;

const hasBody = (ctx: Context) =>
  ctx.get('transfer-encoding') !== '' || (ctx.get('content-length') !== '' && ctx.get('content-length') !== '0');

/**
 * A body on a JSON route must say it is JSON. This is what keeps cross-site "simple" requests (an HTML form,
 * or fetch with `text/plain` or no type, which browsers send without a CORS preflight) from ever reaching a
 * handler: they cannot carry `Content-Type: application/json`.
 */
export function assertJsonContentType(ctx: Context): void {
  if (!hasBody(ctx)) return;
  const mediaType = ctx.get('content-type').split(';')[0].trim();
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body must be JSON (Content-Type: application/json)', {
      content_type: mediaType || null,
    });
  }
}

/**
 * Reads a JSON body with a size limit. `Content-Encoding: gzip` or `deflate` is inflated, and the limit
 * counts the inflated bytes (no decompression bombs). Not JSON-typed → 415, too large → 413, not JSON or
 * not really compressed → 400, the client gone before its body was read → 400 (not a server error), empty → undefined (validation then says what is missing).
 */
export async function readJsonBody(ctx: Context, limit: string | number): Promise<unknown> {
  assertJsonContentType(ctx);
  try {
    const parsed = await coBody.json(ctx.req, { limit, strict: false, returnRawBody: false });
    return parsed === '' ? undefined : parsed;
  } catch (error) {
    const err = error as BodyParseError;
    if (err.status === 413 || err.type === 'entity.too.large') {
      throw new AppError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${limit}`, { limit });
    }
    if (err.status === 415 || err.type === 'encoding.unsupported') {
      throw new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', err.message);
    }
    // The client went away before (or while) its body was read: its mistake, not ours, and nobody reads the answer.
    if (err.type === 'request.aborted' || err.type === 'stream.not.readable') {
      throw new AppError(400, 'CLIENT_CLOSED_REQUEST', 'The client closed the request before its body was read');
    }
    // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR, …): the body does not match its Content-Encoding.
    if (typeof err.code === 'string' && err.code.startsWith('Z_')) {
      throw new AppError(400, 'MALFORMED_BODY', 'Request body does not match its Content-Encoding');
    }
    if (err.status && err.status < 500) {
      throw new AppError(400, 'MALFORMED_JSON', 'Request body is not valid JSON');
    }
    throw error;
  }
}
