import '../instrumentation';
import { createDatabase, createLogger, envBool, loadConfig, runTask } from '@ticketing/platform';
import { z } from 'zod';
import { loadBookingConfig } from '../config';
import { seedBookingDemoData } from '../data-access/demo-seed';
import { migrateBookingDatabase } from './migrate';

export { migrateBookingDatabase } from './migrate';
export { seedBookingDemoData } from '../data-access/demo-seed';

if (require.main === module) {
  void runTask('booking-migrate', async () => {
    const config = loadBookingConfig();
    const { SEED_DEMO_DATA } = loadConfig(z.object({ SEED_DEMO_DATA: envBool(false) }));
    const logger = createLogger('booking-service', config.LOG_LEVEL);
    const applied = await migrateBookingDatabase(config.DATABASE_URL);
    logger.info({ applied }, 'Booking database migrated');
    if (SEED_DEMO_DATA) {
      const db = createDatabase({ url: config.DATABASE_URL, poolMax: 1 });
      try {
        await seedBookingDemoData(db);
        logger.info('Booking demo data seeded');
      } finally {
        await db.destroy();
      }
    }
  });
}
