import { inBatches } from '@ticketing/platform';

/**
 * processed_messages only has to outlive any redelivery of a message (RabbitMQ redelivers within seconds to
 * minutes; the dead-letter queue is replayed by hand within days). Older ids are deleted so the table does not
 * grow forever. Even a message replayed after its id was deleted changes nothing: the rules only move seats
 * still held or sold by the message's own reservation, and refunds are kept for good in refunded_seats.
 */
export interface ProcessedMessageStore {
  /** Deletes up to `limit` ids recorded more than `olderThanSeconds` ago, oldest first; returns how many. */
  purgeProcessedMessages(olderThanSeconds: number, limit: number): Promise<number>;
}

/** Deletes every id older than the retention, in batches (short statements beside the consumer's). */
export function purgeOldMessageIds(store: ProcessedMessageStore, retentionSeconds: number, batchSize = 5_000): Promise<number> {
  return inBatches(batchSize, () => store.purgeProcessedMessages(retentionSeconds, batchSize));
}
