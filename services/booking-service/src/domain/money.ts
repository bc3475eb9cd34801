import { numberText } from '@ticketing/platform';

/**
 * Pricing: money is integer cents (the platform's money.ts); price tier multipliers have at most 4 decimals
 * and are handled as integer basis points (1.0000 = 10000).
 */
const MULTIPLIER = /^\d+(\.\d{1,4})?$/;

export function toBasisPoints(multiplier: number | string): number {
  const text = typeof multiplier === 'number' ? numberText(multiplier) : multiplier.trim();
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
