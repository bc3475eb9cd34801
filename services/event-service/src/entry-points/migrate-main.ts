import '../instrumentation';
import { createLogger, runTask } from '@ticketing/platform';
import { loadEventConfig } from '../config';
import { migrateEventDatabase, openEventDatabase } from '../data-access/database';
import { seedEventDemoData } from '../data-access/demo-data';

void runTask('event-migrate', async () => {
  const config = loadEventConfig();
  const logger = createLogger('event-service', config.LOG_LEVEL);
  const applied = await migrateEventDatabase(config.DATABASE_URL);
  logger.info({ applied }, applied.length ? 'Migrations applied' : 'Database schema is up to date');
  if (config.SEED_DEMO_DATA) {
    const db = openEventDatabase(config.DATABASE_URL, 2);
    try {
      await seedEventDemoData(db);
      logger.info('Demo data seeded');
    } finally {
      await db.destroy();
    }
  }
});
