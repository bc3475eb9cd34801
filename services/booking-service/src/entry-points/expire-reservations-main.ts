import '../instrumentation';
import { createDatabase, createLogger, runTask, withSpan } from '@ticketing/platform';
import { loadBookingConfig, pendingHoldGraceSeconds, type BookingConfig } from '../config';
import { createBookingStore } from '../data-access/booking-store';
import { expireReservations, type ExpirySweepResult } from '../domain/expiry';

/**
 * The expire-reservations CronJob: one sweep, then exit. It only writes reservation.expired rows to the
 * outbox; the API process's relay publishes them (within OUTBOX_POLL_INTERVAL_MS).
 */
export async function runExpirySweep(config: BookingConfig = loadBookingConfig()): Promise<ExpirySweepResult> {
  const logger = createLogger('booking-expire-reservations', config.LOG_LEVEL);
  const db = createDatabase({ url: config.DATABASE_URL, poolMax: 2 });
  try {
    // One trace per run: the reservation.expired rows it writes carry it on through the relay and RabbitMQ
    // to the consumer's seat release. (The job has no /metrics: it logs its counts; see docs/observability.md.)
    return await withSpan('booking-service', 'expiry.sweep', {}, async (span) => {
      const result = await expireReservations(
        { store: createBookingStore(db), logger },
        {
          batchSize: config.EXPIRY_BATCH_SIZE,
          pendingHoldGraceSeconds: pendingHoldGraceSeconds(config),
          outboxRetentionSeconds: config.OUTBOX_RETENTION_HOURS * 3600,
        },
      );
      span?.setAttributes({
        'ticketing.expired': result.expired,
        'ticketing.abandoned_holds': result.abandonedHolds,
        'ticketing.purged_outbox_rows': result.purgedOutboxRows,
      });
      logger.info(result, 'expire-reservations finished');
      return result;
    });
  } finally {
    await db.destroy();
  }
}

if (require.main === module) {
  void runTask('expire-reservations', async () => {
    await runExpirySweep();
  });
}
