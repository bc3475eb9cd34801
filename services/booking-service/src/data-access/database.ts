import { createDatabase, ensureDatabase, migrateToLatest } from '@ticketing/platform';
import { bookingMigrations } from './migrations';

/**
 * Creates the database if needed and applies every migration; returns the names applied. Safe when several
 * processes (pods, parallel test files) do it at once: a run that finds the migration lock taken waits.
 */
export async function migrateBookingDatabase(url: string): Promise<string[]> {
  await ensureDatabase(url);
  const db = createDatabase({ url, poolMax: 1 });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await migrateToLatest(db, bookingMigrations);
      } catch (error) {
        // Another process holds the migration lock, or created knex's bookkeeping tables under us.
        const code = (error as { code?: string }).code;
        const contended = /already locked/i.test((error as Error).message ?? '') || code === '23505' || code === '42P07';
        if (!contended || attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  } finally {
    await db.destroy();
  }
}
