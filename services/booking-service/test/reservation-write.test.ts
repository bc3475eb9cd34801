import { randomUUID } from 'node:crypto';
import { createDatabase, type Knex } from '@ticketing/platform';
import { createBookingStore } from '../src/data-access/booking-store';
import type { BookingStore } from '../src/domain/store';
import type { ReservationItemRow } from '../src/domain/records';
import { migrateBookingDatabase } from '../src/data-access/database';
import { BOOKING_TEST_DATABASE_URL } from '../../../test/support/infra';
import { newReservation } from './support/reservation-rows';

let db: Knex;
let store: BookingStore;

beforeAll(async () => {
  await migrateBookingDatabase(BOOKING_TEST_DATABASE_URL);
  db = createDatabase({ url: BOOKING_TEST_DATABASE_URL, poolMax: 2 });
  store = createBookingStore(db);
});

afterAll(async () => {
  await db?.destroy();
});

const newTwoSeatReservation = () =>
  newReservation([
    { seat_number: '1', row_number: 'A', price: '100.00', discount_amount: '25.00', final_price: '75.00', seat_type: 'vip', seat_id: randomUUID() },
    { seat_number: '2', row_number: 'A', price: '75.50', discount_amount: '0.00', final_price: '75.50', seat_type: null, seat_id: null },
  ]);

const recordHold = (reservation: ReturnType<typeof newTwoSeatReservation>['reservation'], items: ReservationItemRow[]) =>
  store.pendingHolds.record({
    reservationId: reservation.id,
    userId: reservation.user_id,
    sessionId: reservation.session_id,
    sessionSeatIds: items.map((item) => item.session_seat_id),
  });

describe('writing a held reservation in one statement', () => {
  it('clears the live pending hold and writes the reservation with its items', async () => {
    const { reservation, items } = newTwoSeatReservation();
    expect(await recordHold(reservation, items)).toBe(true);

    expect(await store.reservations.insertHeld(reservation, items)).toBe(true);

    expect(await db('pending_holds').where({ reservation_id: reservation.id })).toEqual([]);
    const row = await store.reservations.findById(reservation.id);
    expect(row).toMatchObject({ user_id: reservation.user_id, seats_count: 2, total_amount: '150.50', status: 'active' });
    expect(row?.expiry_time.getTime()).toBe(reservation.expiry_time.getTime());
    expect(await store.reservations.itemsOf([reservation.id])).toEqual(items);
  });

  it('writes nothing when the sweep abandoned the hold first', async () => {
    const { reservation, items } = newTwoSeatReservation();
    await recordHold(reservation, items);
    await db('pending_holds').where({ reservation_id: reservation.id }).update({ abandoned_at: db.fn.now() });

    expect(await store.reservations.insertHeld(reservation, items)).toBe(false);

    expect(await store.reservations.findById(reservation.id)).toBeUndefined();
    expect(await store.reservations.itemsOf([reservation.id])).toEqual([]);
    // The abandoned id stays remembered, so a retry never reuses it.
    expect(await db('pending_holds').where({ reservation_id: reservation.id })).toHaveLength(1);
  });

  it('writes nothing without a pending hold, and nothing at all when an item cannot be written', async () => {
    const missing = newTwoSeatReservation();
    expect(await store.reservations.insertHeld(missing.reservation, missing.items)).toBe(false);
    expect(await store.reservations.findById(missing.reservation.id)).toBeUndefined();

    const { reservation, items } = newTwoSeatReservation();
    await recordHold(reservation, items);
    const duplicateSeat = [items[0], { ...items[1], session_seat_id: items[0].session_seat_id }];
    await expect(store.reservations.insertHeld(reservation, duplicateSeat)).rejects.toThrow();
    expect(await store.reservations.findById(reservation.id)).toBeUndefined();
    expect(await db('pending_holds').where({ reservation_id: reservation.id }).whereNull('abandoned_at')).toHaveLength(1);
  });
});
