import { migrateDatabase } from '@ticketing/platform';
import { bookingMigrations } from './migrations';

/** Creates the booking database if needed and applies every migration (see the platform's migrateDatabase). */
export const migrateBookingDatabase = (url: string): Promise<string[]> => migrateDatabase(url, bookingMigrations);
