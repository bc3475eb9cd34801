/**
 * Money in both services: NUMERIC(12,2) in Postgres (the exact decimal string it returns), integer cents in
 * code, a JSON number with at most 2 decimals only at the edge. Nothing rounds a float.
 */
const MONEY = /^-?\d+(\.\d{1,2})?$/;

/** 100, 100.5, "100.50" → cents. Rejects anything with sub-cent precision rather than silently rounding it. */
export function toCents(value: number | string): number {
  const text = typeof value === 'number' ? numberText(value) : value.trim();
  if (!MONEY.test(text)) throw new RangeError(`Not a money amount with at most 2 decimals: ${String(value)}`);
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace('-', '').split('.');
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) throw new RangeError(`Money amount out of range: ${String(value)}`);
  return negative ? -cents : cents;
}

/** Cents → a JSON number with at most 2 decimals (10050 → 100.5). */
export const fromCents = (cents: number): number => Number((cents / 100).toFixed(2));

/** Cents → the exact decimal string stored in NUMERIC columns. */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** JS numbers like 100.1 print exactly as written; very small/large ones use exponent notation, which is refused. */
export function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`Not a finite amount: ${value}`);
  return String(value);
}
