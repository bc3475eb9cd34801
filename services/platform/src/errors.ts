/**
 * Domain and HTTP errors. Domain code throws these; the central error handler turns them into the
 * contract's JSON body: {"error": {"code", "message", "details"}} with the status given here.
 */
export type ErrorDetails = Record<string, unknown>;

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const unauthorized = (message: string, code = 'UNAUTHORIZED') => new AppError(401, code, message);
export const paymentRequired = (message: string, details?: ErrorDetails) =>
  new AppError(402, 'PAYMENT_DECLINED', message, details);
export const forbidden = (message: string, code = 'FORBIDDEN') => new AppError(403, code, message);
export const notFound = (resource: string, id?: string) =>
  new AppError(404, 'NOT_FOUND', `${resource} not found`, id === undefined ? undefined : { id });
export const conflict = (code: string, message: string, details?: ErrorDetails) =>
  new AppError(409, code, message, details);
export const gone = (code: string, message: string, details?: ErrorDetails) =>
  new AppError(410, code, message, details);
export const unprocessable = (message: string, details?: ErrorDetails, code = 'VALIDATION_ERROR') =>
  new AppError(422, code, message, details);
/** 429: the error handler turns `retry_after_seconds` into the Retry-After header. */
export const tooManyRequests = (retryAfterSeconds: number, message: string, details?: ErrorDetails) =>
  new AppError(429, 'RATE_LIMITED', message, { ...details, retry_after_seconds: retryAfterSeconds });
export const serviceUnavailable = (code: string, message: string, details?: ErrorDetails) =>
  new AppError(503, code, message, details);

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetails };
}

export function errorBody(err: AppError): ErrorBody {
  return {
    error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) },
  };
}
