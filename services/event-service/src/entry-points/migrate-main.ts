import '../instrumentation';
import { createLogger, runTask } from '@ticketing/platform';
import { loadEventConfig } from '../config';
import { migrateEventDatabase } from '../data-access/database';

void runTask('event-migrate', async () => {
  const config = loadEventConfig();
  const logger = createLogger('event-service', config.LOG_LEVEL);
  const applied = await migrateEventDatabase(config.DATABASE_URL);
  logger.info({ applied }, applied.length ? 'Migrations applied' : 'Database schema is up to date');
});
