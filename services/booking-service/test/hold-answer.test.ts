import { newReservationRows, revivedHoldAnswer, storedHoldAnswer } from '../src/domain/new-reservation';
import type { PriceTierRow } from '../src/domain/records';
import { toReservationBody } from '../src/entry-points/http/reservation-view';

const BOOKED = new Date('2026-06-01T12:00:00.123Z');
const EXPIRES = new Date(BOOKED.getTime() + 600_000);
const held = {
  reservation_id: 'r1',
  session_id: 's1',
  session_start_time: '2026-06-02T20:00:00.000Z',
  seats: [
    { session_seat_id: 'a', seat_id: 'sa', row_number: 'A', seat_number: '1', seat_type: 'standard', price: '40.00', status: 'reserved' as const },
    { session_seat_id: 'b', seat_id: 'sb', row_number: 'A', seat_number: '2', seat_type: 'standard', price: 40, status: 'reserved' as const },
  ],
};
const halfPrice: PriceTierRow = { id: 't1', session_id: null, name: 'child', multiplier: '0.5', description: null, created_at: BOOKED };
const request = { reservationId: 'r1', userId: 'u1', sessionId: 's1', seats: [{ session_seat_id: 'b', price_tier_id: 't1' }, { session_seat_id: 'a' }] };

describe('newReservationRows', () => {
  test('when seats are requested, then items follow the request order and the total sums the tier prices', () => {
    const { reservation, items } = newReservationRows(request, held, new Map([['t1', halfPrice]]), BOOKED, EXPIRES);

    expect(items.map((item) => [item.session_seat_id, item.position, item.final_price, item.discount_amount])).toEqual([
      ['b', 0, '20.00', '20.00'],
      ['a', 1, '40.00', '0.00'],
    ]);
    expect([reservation.total_amount, reservation.seats_count, reservation.session_starts_at?.toISOString()]).toEqual([
      '60.00',
      2,
      '2026-06-02T20:00:00.000Z',
    ]);
  });

  test('when the event service did not return a requested seat, then it throws', () => {
    const partial = { ...held, seats: [held.seats[0]] };
    expect(() => newReservationRows(request, partial, new Map([['t1', halfPrice]]), BOOKED, EXPIRES)).toThrow('did not return held seat b');
  });
});

describe('the hold answer an Idempotency-Key stores', () => {
  test('when it comes back from JSON, then it renders the same body as the first answer', () => {
    const rows = newReservationRows(request, held, new Map([['t1', halfPrice]]), BOOKED, EXPIRES);
    const answer = { ...rows, answeredAt: BOOKED };

    const revived = revivedHoldAnswer(JSON.parse(JSON.stringify(storedHoldAnswer(answer))));

    expect(revived).toEqual(answer);
    expect(toReservationBody(revived!, revived!.answeredAt.getTime())).toEqual(toReservationBody(answer, BOOKED.getTime()));
  });

  test('when the stored body is an already rendered reservation (older versions), then it is not revived', () => {
    const rows = newReservationRows(request, held, new Map([['t1', halfPrice]]), BOOKED, EXPIRES);
    const rendered = JSON.parse(JSON.stringify(toReservationBody(rows, BOOKED.getTime())));

    expect(revivedHoldAnswer(rendered)).toBeUndefined();
  });
});
