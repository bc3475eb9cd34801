import type { Migration } from '@ticketing/platform';
import { initialSchema } from './001-initial-schema';

/** Every migration, in order. */
export const bookingMigrations: Migration[] = [initialSchema];
