import { centsToDecimal, fromCents, toCents } from '@ticketing/platform';

/**
 * Money as in the booking service (the platform's money.ts): NUMERIC(12,2) in Postgres, travelling through the
 * code as the exact decimal string Postgres returns, integer cents for any arithmetic, a JSON number only at
 * the edge. Seat prices are computed in SQL on NUMERIC (exact, rounded to the cent).
 */
export const MAX_AMOUNT = 9_999_999_999.99;
export const CURRENCY = 'USD';

/** True when an amount is whole cents (at most two decimals); 10.005 is refused, never rounded. */
export function hasAtMostTwoDecimals(value: number): boolean {
  try {
    toCents(value);
    return true;
  } catch {
    return false;
  }
}

/** 100 → "100.00" (callers validate the number first). */
export const toMoneyString = (value: number): string => centsToDecimal(toCents(value));

/** "100.00" (from Postgres) → 100 for a JSON response. */
export const moneyToNumber = (value: string | number): number => fromCents(toCents(value));
