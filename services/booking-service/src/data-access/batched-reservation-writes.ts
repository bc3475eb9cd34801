import type { Registry } from 'prom-client';
import { createBatchSizeHistogram, NaturalBatcher, outcomeOf, withSpan, type ItemOutcome, type Knex } from '@ticketing/platform';
import type { BookingStore, NewReservation } from '../domain/store';
import type { ReservationItemRow } from '../domain/records';
import { insertHeldMany } from './reservation-repository';

interface HeldReservation {
  reservation: NewReservation;
  items: ReservationItemRow[];
}

/**
 * The store with `reservations.insertHeld` batched across concurrent requests (natural batching: a lone write
 * goes out at once as a batch of one; writes arriving while one is busy go together in one statement).
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
