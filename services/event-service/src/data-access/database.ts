import { createDatabase, ensureDatabase, migrateToLatest, type Knex } from '@ticketing/platform';
import { eventMigrations } from './migrations';

export function openEventDatabase(url: string, poolMax = 10): Knex {
  return createDatabase({ url, poolMax });
}

/** Errors a concurrent migrator causes (another process holds the knex lock or created a table first). */
function isConcurrentMigrationError(error: unknown): boolean {
  const err = error as { name?: string; message?: string; code?: string };
  return (
    err?.name === 'MigrationLocked' ||
    /already locked/i.test(err?.message ?? '') ||
    err?.code === '23505' ||
    err?.code === '42P07'
  );
}

/**
 * Creates the event_service database if it is missing and runs every migration. Safe to call from several
 * processes at once (tests, npm start, a Helm hook): a run that finds the migration lock taken waits and
 * tries again. Returns the names of the migrations it applied.
 */
export async function migrateEventDatabase(url: string): Promise<string[]> {
  await ensureDatabase(url);
  const db = openEventDatabase(url, 2);
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await migrateToLatest(db, eventMigrations);
      } catch (error) {
        if (attempt >= 30 || !isConcurrentMigrationError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * Math.min(attempt, 5)));
      }
    }
  } finally {
    await db.destroy();
  }
}
