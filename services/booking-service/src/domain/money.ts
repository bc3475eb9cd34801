/**
 * Money is handled in integer cents end to end; JSON numbers are produced only at the edge.
 * Multipliers have at most 4 decimals and are handled as integer basis points (1.0000 = 10000).
 */
const MONEY = /^-?\d+(\.\d{1,2})?$/;
const MULTIPLIER = /^\d+(\.\d{1,4})?$/;

/** 100, 100.5, "100.50" → cents. Rejects anything with sub-cent precision rather than silently rounding it. */
export function toCents(value: number | string): number {
  const text = typeof value === 'number' ? normalizeNumber(value) : value.trim();
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

export function toBasisPoints(multiplier: number | string): number {
  const text = typeof multiplier === 'number' ? normalizeNumber(multiplier) : multiplier.trim();
  if (!MULTIPLIER.test(text)) throw new RangeError(`Not a multiplier with at most 4 decimals: ${String(multiplier)}`);
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 10_000 + Number(fraction.padEnd(4, '0'));
}

export const basisPointsToNumber = (bp: number): number => Number((bp / 10_000).toFixed(4));

export interface PricedSeat {
  priceCents: number;
  discountCents: number;
  finalCents: number;
}

/** final = price × multiplier rounded half-up to the cent; discount = price − final (so they always add up). */
export function applyMultiplier(priceCents: number, multiplierBp: number): PricedSeat {
  if (!Number.isSafeInteger(priceCents) || priceCents < 0) throw new RangeError(`Invalid price ${priceCents}`);
  if (!Number.isInteger(multiplierBp) || multiplierBp <= 0 || multiplierBp > 10_000) {
    throw new RangeError(`Invalid multiplier ${multiplierBp} bp`);
  }
  const finalCents = Math.floor((priceCents * multiplierBp + 5_000) / 10_000);
  return { priceCents, discountCents: priceCents - finalCents, finalCents };
}

export const sumCents = (values: number[]): number => values.reduce((total, value) => total + value, 0);

/** JS numbers like 100.1 print exactly as written; very small/large ones use exponent notation, which we reject. */
function normalizeNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`Not a finite amount: ${value}`);
  return String(value);
}
