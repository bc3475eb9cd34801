import { z } from 'zod';
import { AppError } from '../errors';

export type RequestPart = 'params' | 'query' | 'body' | 'headers';

/** Turns zod issues into the contract's 422 with the offending fields. */
export function validationError(part: RequestPart, error: z.ZodError): AppError {
  const fields = error.issues.map((issue) => ({
    field: [part, ...issue.path].join('.'),
    message: issue.message,
  }));
  return new AppError(422, 'VALIDATION_ERROR', 'Request validation failed', { fields });
}

export function parsePart<T extends z.ZodType>(schema: T, part: RequestPart, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    // A malformed path id is "nothing here", not a validation problem with the caller's payload.
    if (part === 'params') {
      throw new AppError(404, 'NOT_FOUND', 'Resource not found', {
        fields: result.error.issues.map((i) => i.path.join('.')),
      });
    }
    throw validationError(part, result.error);
  }
  return result.data;
}
