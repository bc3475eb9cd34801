import { startPeriodicJob, type Logger, type PeriodicJob } from '@ticketing/platform';
import { purgeOldMessageIds, type ProcessedMessageStore } from '../domain/message-retention';

/** How often the consumer deletes message ids older than PROCESSED_MESSAGES_RETENTION_HOURS. */
const RETENTION_INTERVAL_MS = 3_600_000;
/** The first purge waits this long after start, out of the way of a restart's backlog. */
const FIRST_RETENTION_DELAY_MS = 60_000;

/** The consumer's processed_messages purge: every hour, the first a minute after start; 0 hours turns it off. */
export function scheduleMessageRetention(store: ProcessedMessageStore, retentionHours: number, logger: Logger): PeriodicJob {
  return startPeriodicJob({
    name: 'Purging old processed message ids',
    intervalMs: retentionHours > 0 ? RETENTION_INTERVAL_MS : 0,
    firstRunAfterMs: FIRST_RETENTION_DELAY_MS,
    logger,
    run: async () => {
      const purged = await purgeOldMessageIds(store, retentionHours * 3600);
      if (purged) logger.info({ purged, retention_hours: retentionHours }, 'Deleted old processed message ids');
    },
  });
}
