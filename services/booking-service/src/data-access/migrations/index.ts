import type { Migration } from '@ticketing/platform';
import { initialSchema } from './001-initial-schema';
import { outboxRetention } from './002-outbox-retention';
import { paymentsAndRefundCutoff } from './003-payments-and-refund-cutoff';
import { checkIn } from './004-check-in';
import { pendingHoldCapIndex } from './005-pending-hold-cap-index';

/** Every migration, in order. */
export const bookingMigrations: Migration[] = [initialSchema, outboxRetention, paymentsAndRefundCutoff, checkIn, pendingHoldCapIndex];
