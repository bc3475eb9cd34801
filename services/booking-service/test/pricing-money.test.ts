import { centsToDecimal, fromCents, toCents } from '@ticketing/platform';
import { applyMultiplier, sumCents, toBasisPoints } from '../src/domain/money';

describe('money in integer cents', () => {
  it('reads amounts from numbers and NUMERIC strings exactly', () => {
    expect(toCents(100)).toBe(10_000);
    expect(toCents(100.5)).toBe(10_050);
    expect(toCents('100.50')).toBe(10_050);
    expect(toCents('0.07')).toBe(7);
    expect(toCents(19.99)).toBe(1_999);
  });

  it('refuses sub-cent amounts instead of rounding them silently', () => {
    expect(() => toCents('1.005')).toThrow(RangeError);
    expect(() => toCents(0.1 + 0.2)).toThrow(RangeError);
    expect(() => toCents(Number.NaN)).toThrow(RangeError);
  });

  it('writes cents back as JSON numbers and NUMERIC strings', () => {
    expect(fromCents(10_050)).toBe(100.5);
    expect(fromCents(1)).toBe(0.01);
    expect(centsToDecimal(10_050)).toBe('100.50');
    expect(centsToDecimal(7)).toBe('0.07');
    expect(centsToDecimal(0)).toBe('0.00');
  });

  it('reads multipliers with up to 4 decimals as basis points', () => {
    expect(toBasisPoints(1)).toBe(10_000);
    expect(toBasisPoints('0.8000')).toBe(8_000);
    expect(toBasisPoints(0.3333)).toBe(3_333);
    expect(() => toBasisPoints(0.33333)).toThrow(RangeError);
  });
});

describe('a price tier discount', () => {
  it('charges full price at multiplier 1 (the seed: 100.0, discount 0, final 100.0)', () => {
    expect(applyMultiplier(10_000, 10_000)).toEqual({ priceCents: 10_000, discountCents: 0, finalCents: 10_000 });
  });

  it('takes 20% off for a 0.8 tier', () => {
    expect(applyMultiplier(10_000, 8_000)).toEqual({ priceCents: 10_000, discountCents: 2_000, finalCents: 8_000 });
  });

  it('rounds the final price half up to the cent and makes the discount the exact remainder', () => {
    // 19.99 × 0.3333 = 6.662667 → 6.66; discount 13.33
    expect(applyMultiplier(1_999, 3_333)).toEqual({ priceCents: 1_999, discountCents: 1_333, finalCents: 666 });
    // 0.05 × 0.5 = 0.025 → 0.03 (half up)
    expect(applyMultiplier(5, 5_000)).toEqual({ priceCents: 5, discountCents: 2, finalCents: 3 });
  });

  it('keeps price = discount + final for every combination, so totals add up to the cent', () => {
    for (const price of [1, 99, 1_999, 10_000, 12_345, 99_999]) {
      for (const bp of [1, 3_333, 6_667, 8_000, 9_999, 10_000]) {
        const priced = applyMultiplier(price, bp);
        expect(priced.discountCents + priced.finalCents).toBe(price);
        expect(priced.finalCents).toBeLessThanOrEqual(price);
      }
    }
    const finals = [applyMultiplier(1_999, 3_333), applyMultiplier(1_999, 3_333), applyMultiplier(1_999, 3_334)];
    expect(sumCents(finals.map((p) => p.finalCents))).toBe(666 + 666 + 666);
  });

  it('rejects multipliers outside 0 < m <= 1', () => {
    expect(() => applyMultiplier(100, 0)).toThrow(RangeError);
    expect(() => applyMultiplier(100, 10_001)).toThrow(RangeError);
  });
});
