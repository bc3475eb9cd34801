import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { AppError, errorBody } from '../errors';
import { recordRequestFailure } from './server-span';
import { PG } from '../db/postgres-errors';

interface PgError extends Error {
  code?: string;
  constraint?: string;
}

interface HttpError extends Error {
  status?: number;
  expose?: boolean;
}

const CODES_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  501: 'NOT_IMPLEMENTED',
};

/**
 * Maps anything thrown below it to the contract's JSON error. Known Postgres constraint failures become
 * 409/422 (they mean the caller raced or sent something inconsistent); everything else is a 500 and logged.
 */
export function translateError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const http = error as HttpError;
  if (typeof http?.status === 'number' && http.expose && http.status < 500) {
    return new AppError(http.status, CODES_BY_STATUS[http.status] ?? 'BAD_REQUEST', http.message);
  }
  if (http?.status === 501) return new AppError(405, 'METHOD_NOT_ALLOWED', http.message);
  const pg = error as PgError;
  switch (pg?.code) {
    case PG.uniqueViolation:
      return new AppError(409, 'CONFLICT', 'Resource already exists', { constraint: pg.constraint });
    case PG.foreignKeyViolation:
      return new AppError(422, 'REFERENCE_NOT_FOUND', 'A referenced resource does not exist', {
        constraint: pg.constraint,
      });
    case PG.invalidTextRepresentation:
    case PG.numericValueOutOfRange:
    case PG.invalidDatetimeFormat:
    case PG.datetimeFieldOverflow:
      return new AppError(422, 'VALIDATION_ERROR', 'A value is out of range or malformed');
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      const appError = translateError(error);
      if (appError) {
        ctx.status = appError.status;
        ctx.body = errorBody(appError);
        const retryAfter = appError.details?.retry_after_seconds;
        if (appError.status === 429 && typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
        if (appError.status >= 500) {
          recordRequestFailure(error);
          logger.warn({ err: error, code: appError.code }, appError.message);
        }
        return;
      }
      recordRequestFailure(error);
      logger.error({ err: error }, 'Unhandled error');
      ctx.status = 500;
      ctx.body = errorBody(new AppError(500, 'INTERNAL_ERROR', 'Internal server error'));
    }
  };
}
