/**
 * Money is stored as NUMERIC(12,2) and travels through the code as the exact decimal string Postgres
 * returns. It becomes a JSON number only at the edge, where a 12-digit amount is still exact in a double.
 */
export const MAX_AMOUNT = 9_999_999_999.99;
export const CURRENCY = 'USD';

/** True when a number has at most two decimals (tolerating binary floating-point noise). */
export function hasAtMostTwoDecimals(value: number): boolean {
  const cents = value * 100;
  return Math.abs(cents - Math.round(cents)) < 1e-6;
}

/** 100 → "100.00"; callers validate the number first. */
export const toMoneyString = (value: number): string => (Math.round(value * 100) / 100).toFixed(2);

/** "100.00" (from Postgres) → 100 for a JSON response. */
export const moneyToNumber = (value: string | number): number => Math.round(Number(value) * 100) / 100;
