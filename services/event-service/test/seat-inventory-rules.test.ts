import { planHold, planRefund, planRelease, planSale, type SeatState } from '../src/domain/seat-inventory';
import { naturalSortKey } from '../src/domain/seat-order';
import { hasAtMostTwoDecimals, moneyToNumber, toMoneyString } from '../src/domain/money';
import { matchesIfNoneMatch } from '../src/entry-points/http/session-routes';

const R = 'reservation-r';
const OTHER = 'reservation-other';
const seat = (id: string, status: SeatState['status'], reservation_id: string | null = null): SeatState => ({
  id,
  status,
  reservation_id,
});

describe('hold rules', () => {
  test('available seats are taken; seats this reservation already holds count as taken', () => {
    const plan = planHold(['a', 'b'], [seat('a', 'available'), seat('b', 'reserved', R)], R);
    expect(plan).toEqual({ toHold: ['a'], unavailable: [] });
  });

  test("another reservation's hold, a sold seat and an unknown seat are all unavailable", () => {
    const plan = planHold(
      ['a', 'b', 'c', 'd'],
      [seat('a', 'available'), seat('b', 'reserved', OTHER), seat('c', 'sold', R)],
      R,
    );
    expect(plan.unavailable).toEqual([
      { session_seat_id: 'b', status: 'reserved' },
      { session_seat_id: 'c', status: 'sold' },
      { session_seat_id: 'd', status: 'not_found' },
    ]);
  });
});

describe('release rules', () => {
  test("frees only this reservation's held seats and never a sold seat", () => {
    const plan = planRelease(
      [seat('a', 'reserved', R), seat('b', 'reserved', OTHER), seat('c', 'sold', R), seat('d', 'available')],
      R,
    );
    expect(plan).toEqual({ toFree: ['a'], alreadyFree: ['d'] });
  });
});

describe('sale rules', () => {
  const seats = [
    seat('held', 'reserved', R),
    seat('sold', 'sold', R),
    seat('free', 'available'),
    seat('theirs', 'reserved', OTHER),
    seat('theirs-sold', 'sold', OTHER),
  ];

  test('sells held seats, keeps sold ones, and reports seats of other reservations as conflicts', () => {
    const plan = planSale(seats, R);
    expect(plan.toSell).toEqual(['held']);
    expect(plan.alreadySold).toEqual(['sold']);
    expect(plan.unheld).toEqual(['free']);
    expect(plan.conflicts.map((s) => s.id)).toEqual(['theirs', 'theirs-sold']);
  });

  test('honouring a confirmed booking also sells a seat nobody holds, but never one somebody else holds', () => {
    const plan = planSale(seats, R, new Set(), true);
    expect(plan.toSell).toEqual(['held', 'free']);
    expect(plan.conflicts.map((s) => s.id)).toEqual(['theirs', 'theirs-sold']);
  });

  test('a seat refunded before the confirm arrives is freed instead of sold', () => {
    const plan = planSale([seat('held', 'reserved', R), seat('free', 'available')], R, new Set(['held', 'free']), true);
    expect(plan).toMatchObject({ toSell: [], toFree: ['held'] });
  });
});

describe('refund rules', () => {
  test("returns this reservation's seats whether the sale was applied yet or not", () => {
    expect(
      planRefund([seat('a', 'sold', R), seat('b', 'reserved', R), seat('c', 'sold', OTHER), seat('d', 'available')], R),
    ).toEqual(['a', 'b']);
  });
});

describe('natural seat order', () => {
  const sorted = (labels: string[]) =>
    [...labels].sort((a, b) => (naturalSortKey(a) < naturalSortKey(b) ? -1 : naturalSortKey(a) > naturalSortKey(b) ? 1 : 0));

  test('"2" comes before "10", letters sort alphabetically, and mixed labels compare number by number', () => {
    expect(sorted(['10', '2', '1', '100', '20'])).toEqual(['1', '2', '10', '20', '100']);
    expect(sorted(['B', 'AA', 'A', 'b2'])).toEqual(['A', 'AA', 'B', 'b2']);
    expect(sorted(['A10', 'A2', 'A1'])).toEqual(['A1', 'A2', 'A10']);
    expect(sorted(['02', '1', '10'])).toEqual(['1', '02', '10']);
  });
});

describe('money', () => {
  test('when an amount has at most two decimals, then it is kept exact in cents', () => {
    expect(hasAtMostTwoDecimals(100)).toBe(true);
    expect(hasAtMostTwoDecimals(0.3)).toBe(true);
    expect(toMoneyString(0.3)).toBe('0.30');
    expect(toMoneyString(100)).toBe('100.00');
    expect(toMoneyString(9_999_999_999.99)).toBe('9999999999.99');
    expect(moneyToNumber('9999999999.99')).toBe(9_999_999_999.99);
    expect(moneyToNumber('0.10')).toBe(0.1);
  });

  test('when an amount has sub-cent precision, then it is refused rather than rounded (float noise included)', () => {
    expect(hasAtMostTwoDecimals(10.005)).toBe(false);
    expect(hasAtMostTwoDecimals(0.1 + 0.2)).toBe(false);
    expect(() => toMoneyString(10.005)).toThrow(RangeError);
  });
});

describe('If-None-Match', () => {
  test('matches the same tag, weak or strong, in a list, or "*"', () => {
    expect(matchesIfNoneMatch('"abc"', '"abc"')).toBe(true);
    expect(matchesIfNoneMatch('W/"abc"', '"abc"')).toBe(true);
    expect(matchesIfNoneMatch('"x", "abc"', '"abc"')).toBe(true);
    expect(matchesIfNoneMatch('*', '"abc"')).toBe(true);
    expect(matchesIfNoneMatch('"abd"', '"abc"')).toBe(false);
    expect(matchesIfNoneMatch('', '"abc"')).toBe(false);
  });
});
