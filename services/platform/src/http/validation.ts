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

/** Most string fields (and keys) reported per request when several carry a NUL. */
const MAX_REPORTED_FIELDS = 20;

/**
 * Paths of every string (value or object key) in `value` that contains a NUL character. Postgres text and
 * jsonb cannot store U+0000, so such input would otherwise fail deep inside a query as a 500; no field of
 * this API has a use for it.
 */
export function fieldsWithNul(value: unknown, path: (string | number)[] = [], found: string[] = []): string[] {
  if (found.length >= MAX_REPORTED_FIELDS) return found;
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push(path.join('.'));
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => fieldsWithNul(item, [...path, index], found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) found.push([...path, key].join('.'));
      fieldsWithNul(item, [...path, key], found);
    }
  }
  return found;
}

/** Whether any string (value or key) in `value` contains a NUL; allocation-free, for 100,000-seat bodies. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) if (containsNul(value[index])) return true;
    return false;
  }
  for (const key in value) {
    if (key.includes('\u0000') || containsNul((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

export function parsePart<T extends z.ZodType>(schema: T, part: RequestPart, value: unknown): z.output<T> {
  const withNul = containsNul(value) ? fieldsWithNul(value) : [];
  if (withNul.length > 0 && part !== 'params') {
    throw new AppError(422, 'VALIDATION_ERROR', 'Request validation failed', {
      fields: withNul.map((field) => ({ field: [part, field].filter(Boolean).join('.'), message: 'must not contain NUL characters' })),
    });
  }
  const result = schema.safeParse(value);
  if (!result.success || withNul.length > 0) {
    // A malformed path id is "nothing here", not a validation problem with the caller's payload.
    if (part === 'params') {
      throw new AppError(404, 'NOT_FOUND', 'Resource not found', {
        fields: result.success ? withNul : result.error.issues.map((i) => i.path.join('.')),
      });
    }
    throw validationError(part, (result as { error: z.ZodError }).error);
  }
  return result.data;
}
