import { createDatabase, migrateDatabase, type Knex } from '@ticketing/platform';
import { eventMigrations } from './migrations';

export function openEventDatabase(url: string, poolMax = 10): Knex {
  return createDatabase({ url, poolMax });
}

/** Creates the event_service database if needed and applies every migration (see the platform's migrateDatabase). */
export const migrateEventDatabase = (url: string): Promise<string[]> => migrateDatabase(url, eventMigrations);
