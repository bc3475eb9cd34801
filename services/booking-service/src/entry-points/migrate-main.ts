import '../instrumentation';
import {
  baseConfigShape,
  checkIdentityConfig,
  createDatabase,
  createLogger,
  envBool,
  envOptionalString,
  envUrl,
  identityConfigShape,
  loadConfig,
  logLevelSchema,
  runTask,
} from '@ticketing/platform';
import { z } from 'zod';
import { seedBookingDemoData } from '../data-access/demo-data';
import { migrateBookingDatabase } from '../data-access/database';

export { migrateBookingDatabase } from '../data-access/database';
export { seedBookingDemoData } from '../data-access/demo-data';

/**
 * What migrations need, plus the identity checks every process runs: a production release refuses to migrate
 * when it would then run insecurely (TICKET_SIGNING_SECRET is checked for length when given; the API and the
 * expiry job require it).
 */
export const bookingMigrateConfigSchema = z
  .object({
    NODE_ENV: baseConfigShape.NODE_ENV,
    LOG_LEVEL: logLevelSchema,
    DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/booking_service', ['postgres', 'postgresql']),
    SEED_DEMO_DATA: envBool(false),
    ...identityConfigShape,
    TICKET_SIGNING_SECRET: envOptionalString(),
  })
  .superRefine(checkIdentityConfig);

if (require.main === module) {
  void runTask('booking-migrate', async () => {
    const config = loadConfig(bookingMigrateConfigSchema);
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
