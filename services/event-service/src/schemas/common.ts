import { z } from 'zod';
import { MAX_AMOUNT, hasAtMostTwoDecimals, toMoneyString } from '../domain/money';

// Postgres text cannot hold NUL, and control characters in names only cause trouble downstream.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Required, trimmed, printable text of at most `max` characters. */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine((value) => !CONTROL_CHARACTERS.test(value), 'must not contain control characters');

/** Optional text: absent, null or "" all mean "none". */
export const optionalText = (max: number) =>
  z
    .preprocess((value) => (typeof value === 'string' && value.trim() === '' ? null : value), text(max).nullable())
    .optional()
    .transform((value) => value ?? null);

/** A UUID in any case, normalised to lower case (Postgres' spelling) so comparisons are exact. */
export const uuid = z.guid().transform((value) => value.toLowerCase());
/** A UUID in a response. */
export const uuidOutput = z.guid();
export const idParams = z.object({ id: uuid });

export const timestamp = z.iso.datetime({ offset: true });
export const timestampOutput = z.iso.datetime();

/** A JSON number with at most two decimals between 0 and 9,999,999,999.99, kept as an exact decimal string. */
export const moneyInput = z
  .number()
  .min(0)
  .max(MAX_AMOUNT)
  .refine(hasAtMostTwoDecimals, 'must have at most 2 decimals')
  .transform(toMoneyString);

export const money = z.number().meta({ description: 'Amount with 2 decimals', example: 100.0 });

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).meta({ description: 'Page size (1..500, default 50)' }),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000_000)
    .default(0)
    .meta({ description: 'Items to skip (default 0)' }),
});

/** A list of unique session seat ids, 1..100 of them. */
export const sessionSeatIds = z
  .array(uuid)
  .min(1)
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'must not contain duplicates');

export const seatStatus = z.enum(['available', 'reserved', 'sold']);
