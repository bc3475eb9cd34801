import type { Migration } from '@ticketing/platform';
import { initialSchema } from './001-initial-schema';
import { outboxRetention } from './002-outbox-retention';

/** Every migration, in order. */
export const bookingMigrations: Migration[] = [initialSchema, outboxRetention];
