import type { Knex } from '@ticketing/platform';
import type { BookingRepositories, BookingStore } from '../domain/store';
import { idempotencyRepository } from './idempotency-repository';
import { outboxRepository } from './outbox-repository';
import { paymentRepository } from './payment-repository';
import { pendingHoldRepository } from './pending-hold-repository';
import { priceTierRepository } from './price-tier-repository';
import { reservationRepository } from './reservation-repository';
import { ticketRepository } from './ticket-repository';

function repositories(db: Knex | Knex.Transaction): BookingRepositories {
  return {
    priceTiers: priceTierRepository(db),
    reservations: reservationRepository(db),
    tickets: ticketRepository(db),
    outbox: outboxRepository(db),
    idempotency: idempotencyRepository(db),
    pendingHolds: pendingHoldRepository(db),
    payments: paymentRepository(db),
  };
}

/** The booking store (domain/store.ts) over Postgres. */
export function createBookingStore(db: Knex): BookingStore {
  return {
    ...repositories(db),
    transaction: (work) => db.transaction((trx) => work(repositories(trx))),
  };
}
