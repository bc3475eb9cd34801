import { AppError } from '@ticketing/platform';
import type { ReservationRow } from '../src/domain/records';
import { confirmDecision } from '../src/domain/confirm-reservation';
import { assertRefundWindowOpen } from '../src/domain/tickets';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const row = (overrides: Partial<ReservationRow>): ReservationRow => ({
  id: 'r1',
  user_id: 'u1',
  session_id: 's1',
  booking_time: new Date(NOW - 60_000),
  expiry_time: new Date(NOW + 60_000),
  seats_count: 1,
  total_amount: '10.00',
  status: 'active',
  payment_id: null,
  confirmed_at: null,
  session_starts_at: null,
  payment_ref: null,
  created_at: new Date(NOW - 60_000),
  updated_at: new Date(NOW - 60_000),
  ...overrides,
});
const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return error instanceof AppError ? `${error.status} ${error.code}` : 'other';
  }
  return 'none';
};

describe('confirmDecision', () => {
  test('when the hold is live, then a confirm with or without a payment id pays', () => {
    expect(confirmDecision(row({}), 'pm_1', NOW)).toBe('pay');
    expect(confirmDecision(row({}), undefined, NOW)).toBe('pay');
  });

  test('when confirmed, then the same payment or no payment replays and another payment is 409', () => {
    const confirmed = row({ status: 'confirmed', payment_id: 'pm_1' });
    expect(confirmDecision(confirmed, 'pm_1', NOW)).toBe('replay');
    expect(confirmDecision(confirmed, undefined, NOW)).toBe('replay');
    expect(codeOf(() => confirmDecision(confirmed, 'pm_2', NOW))).toBe('409 ALREADY_CONFIRMED');
  });

  test('when expired (by status or by clock) or cancelled, then it is refused before any payment', () => {
    expect(codeOf(() => confirmDecision(row({ expiry_time: new Date(NOW) }), 'pm', NOW))).toBe('410 RESERVATION_EXPIRED');
    expect(codeOf(() => confirmDecision(row({ status: 'expired' }), undefined, NOW))).toBe('410 RESERVATION_EXPIRED');
    expect(codeOf(() => confirmDecision(row({ status: 'cancelled' }), 'pm', NOW))).toBe('409 RESERVATION_CANCELLED');
  });
});

describe('assertRefundWindowOpen', () => {
  const start = new Date(NOW + 60 * 60_000);
  test('when the session starts later than the cutoff, then refunds are open', () => {
    expect(codeOf(() => assertRefundWindowOpen(start, 0, NOW, 't1'))).toBe('none');
    expect(codeOf(() => assertRefundWindowOpen(start, 59, NOW, 't1'))).toBe('none');
  });

  test('when the cutoff has been reached or the session started, then 409 REFUND_WINDOW_CLOSED', () => {
    expect(codeOf(() => assertRefundWindowOpen(start, 60, NOW, 't1'))).toBe('409 REFUND_WINDOW_CLOSED');
    expect(codeOf(() => assertRefundWindowOpen(new Date(NOW), 0, NOW, 't1'))).toBe('409 REFUND_WINDOW_CLOSED');
    expect(codeOf(() => assertRefundWindowOpen(new Date(NOW - 1), 0, NOW, 't1'))).toBe('409 REFUND_WINDOW_CLOSED');
  });
});
