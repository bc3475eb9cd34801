import type { Knex } from '@ticketing/platform';
import { idempotencyRepository } from './idempotency-repository';
import { outboxRepository } from './outbox-repository';
import { paymentRepository } from './payment-repository';
import { pendingHoldRepository } from './pending-hold-repository';
import { priceTierRepository } from './price-tier-repository';
import { reservationRepository } from './reservation-repository';
import { ticketRepository } from './ticket-repository';

function repositories(db: Knex | Knex.Transaction) {
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

export type BookingRepositories = ReturnType<typeof repositories>;

/** The repositories, plus `transaction(fn)` giving the same repositories bound to one database transaction. */
export interface BookingStore extends BookingRepositories {
  transaction<T>(work: (tx: BookingRepositories) => Promise<T>): Promise<T>;
}

export function createBookingStore(db: Knex): BookingStore {
  return {
    ...repositories(db),
    transaction: (work) => db.transaction((trx) => work(repositories(trx))),
  };
}
