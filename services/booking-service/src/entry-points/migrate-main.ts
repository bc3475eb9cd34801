import '../instrumentation';
import { createDatabase, createLogger, envBool, envUrl, loadConfig, logLevelSchema, runTask } from '@ticketing/platform';
import { z } from 'zod';
import { seedBookingDemoData } from '../data-access/demo-seed';
import { migrateBookingDatabase } from './migrate';

export { migrateBookingDatabase } from './migrate';
export { seedBookingDemoData } from '../data-access/demo-seed';

if (require.main === module) {
  void runTask('booking-migrate', async () => {
    // Only what migrations need: the Job is a pre-install hook and gets no application secrets
    // (loadBookingConfig would demand TICKET_SIGNING_SECRET when NODE_ENV=production).
    const config = loadConfig(
      z.object({
        LOG_LEVEL: logLevelSchema,
        DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/booking_service', ['postgres', 'postgresql']),
        SEED_DEMO_DATA: envBool(false),
      }),
    );
    const { SEED_DEMO_DATA } = config;
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
