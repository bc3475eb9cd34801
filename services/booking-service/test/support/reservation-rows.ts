/** Rows of a held reservation with fresh ids, for data-access tests that write them directly. */
import { randomUUID } from 'node:crypto';
import type { ReservationItemRow } from '../../src/domain/records';
import { centsToDecimal, toCents } from '@ticketing/platform';

export type ItemSpec = Pick<ReservationItemRow, 'row_number' | 'seat_number' | 'price' | 'discount_amount' | 'final_price' | 'seat_type' | 'seat_id'>;

/** An active reservation of the given items (total = sum of their final prices), expiring `expiresInMs` from now. */
export function newReservation(itemSpecs: ItemSpec[], { expiresInMs = 600_000 } = {}) {
  const id = randomUUID();
  const now = new Date();
  const reservation = {
    id,
    user_id: randomUUID(),
    session_id: randomUUID(),
    booking_time: now,
    expiry_time: new Date(now.getTime() + expiresInMs),
    seats_count: itemSpecs.length,
    total_amount: centsToDecimal(itemSpecs.reduce((cents, item) => cents + toCents(item.final_price), 0)),
    status: 'active' as const,
    created_at: now,
    updated_at: now,
  };
  const items: ReservationItemRow[] = itemSpecs.map((item, position) => ({
    ...item,
    id: randomUUID(),
    reservation_id: id,
    session_seat_id: randomUUID(),
    price_tier_id: null,
    position,
  }));
  return { reservation, items };
}
