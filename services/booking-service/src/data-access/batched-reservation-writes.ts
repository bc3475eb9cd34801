import type { Registry } from 'prom-client';
import { definePreparedStatement, createBatchSizeHistogram, NaturalBatcher, outcomeOf, withSpan, type ItemOutcome, type Knex } from '@ticketing/platform';
import type { BookingStore, NewReservation } from '../domain/store';
import type { ReservationItemRow } from '../domain/records';
import { heldItemRecords } from './reservation-repository';

interface HeldReservation {
  reservation: NewReservation;
  items: ReservationItemRow[];
}

// insert_held for many reservations in one statement (one round trip, one commit): each is written, with its
// items, only if the same statement could clear its own live pending hold; the ids written come back.
const insertHeldManyStatement = definePreparedStatement<{ reservations: string; items: string }, { id: string }>(
  'booking.reservations.insert_held_many',
  `WITH input AS (
     SELECT * FROM json_to_recordset(:reservations::json) AS r(
       id uuid, user_id uuid, session_id uuid, booking_time timestamptz, expiry_time timestamptz, seats_count int,
       total_amount numeric, status text, session_starts_at timestamptz, created_at timestamptz, updated_at timestamptz)
   ), cleared AS (
     DELETE FROM pending_holds p USING input
     WHERE p.reservation_id = input.id AND p.abandoned_at IS NULL
     RETURNING p.reservation_id
   ), reservation AS (
     INSERT INTO reservations
       (id, user_id, session_id, booking_time, expiry_time, seats_count, total_amount, status, session_starts_at,
        created_at, updated_at)
     SELECT i.id, i.user_id, i.session_id, i.booking_time, i.expiry_time, i.seats_count, i.total_amount, i.status,
            i.session_starts_at, i.created_at, i.updated_at
     FROM input i JOIN cleared c ON c.reservation_id = i.id
     RETURNING id
   ), items AS (
     INSERT INTO reservation_items
       (id, reservation_id, session_seat_id, seat_id, row_number, seat_number, seat_type, price, discount_amount,
        final_price, price_tier_id, position)
     SELECT i.id, reservation.id, i.session_seat_id, i.seat_id, i.row_number, i.seat_number, i.seat_type, i.price,
            i.discount_amount, i.final_price, i.price_tier_id, i.position
     FROM json_to_recordset(:items::json) AS i(
       id uuid, reservation_id uuid, session_seat_id uuid, seat_id uuid, row_number text, seat_number text,
       seat_type text, price numeric, discount_amount numeric, final_price numeric, price_tier_id uuid, position int)
     JOIN reservation ON reservation.id = i.reservation_id
     RETURNING 1
   )
   SELECT id FROM reservation`,
);

/** Writes the reservations whose pending holds are still live, in one statement; returns the ids written. */
export async function insertHeldMany(db: Knex, held: HeldReservation[]): Promise<Set<string>> {
  const { rows } = await insertHeldManyStatement.run(db, {
    reservations: JSON.stringify(held.map(({ reservation }) => ({ ...reservation, session_starts_at: reservation.session_starts_at ?? null }))),
    items: JSON.stringify(held.flatMap(({ reservation, items }) => heldItemRecords(reservation, items))),
  });
  return new Set(rows.map((row) => row.id));
}

/**
 * The store with `reservations.insertHeld` batched across concurrent requests (natural batching: a lone write
 * goes out at once on the single statement; writes arriving while one is busy go together in one statement).
 * Each caller still learns whether its own reservation was written; when the batch statement fails, each
 * write is tried again on its own, so no reservation fails for another's sake.
 */
export function withBatchedReservationWrites(db: Knex, store: BookingStore, options: { maxBatchSize: number; maxInFlight: number; registry: Registry }): BookingStore {
  const size = createBatchSizeHistogram(
    options.registry,
    'booking_reservation_write_batch_size',
    'Reservations written per statement (1 when idle; grows with concurrent buyers)',
  );
  const single = (held: HeldReservation) => store.reservations.insertHeld(held.reservation, held.items);
  const batcher = new NaturalBatcher<HeldReservation, boolean>({
    maxBatchSize: options.maxBatchSize,
    maxInFlight: options.maxInFlight,
    run: async (batch, info) => {
      size.observe(info.size);
      if (batch.length === 1) return [await outcomeOf(() => single(batch[0]))];
      const attributes = { 'ticketing.batch_size': info.size };
      return withSpan('booking-service', 'reservations.insert_held_batch', { attributes, links: info.links, root: true }, async () => {
        let written: Set<string>;
        try {
          written = await insertHeldMany(db, batch);
        } catch {
          return Promise.all(batch.map((held) => outcomeOf(() => single(held))));
        }
        return batch.map(({ reservation }): ItemOutcome<boolean> => ({ ok: true, value: written.has(reservation.id) }));
      });
    },
  });
  return {
    ...store,
    reservations: { ...store.reservations, insertHeld: (reservation, items) => batcher.submit({ reservation, items }) },
  };
}
