import type { Context } from 'koa';
import coBody from 'co-body';
import { AppError } from '../errors';

interface BodyParseError extends Error {
  status?: number;
  type?: string;
  limit?: number;
}

/**
 * Reads a JSON body whatever the Content-Type (curl users often forget it), with a size limit.
 * Too large → 413, not JSON → 400, empty → undefined (validation then says what is missing).
 */
export async function readJsonBody(ctx: Context, limit: string | number): Promise<unknown> {
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
    if (err.status && err.status < 500) {
      throw new AppError(400, 'MALFORMED_JSON', 'Request body is not valid JSON');
    }
    throw error;
  }
}
