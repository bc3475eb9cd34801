import { ROOT_CONTEXT, SpanKind, context, propagation } from '@opentelemetry/api';
import { TICKETING_EXCHANGE, withSpan, type Logger, type TicketingEvent } from '@ticketing/platform';
import type { BookingMetrics } from './ports';
import type { OutboxRow } from './records';
import type { BookingStore } from './store';

/** The broker, as the outbox sees it. */
export interface OutboxPublisher {
  /**
   * Resolves once the broker confirmed the message; rejects when it did not. Called inside the row's
   * `outbox.publish` span, whose trace context the publisher puts in the message headers.
   */
  publish(event: TicketingEvent): Promise<void>;
  /** False while there is no broker connection (rows then simply wait). */
  isConnected(): boolean;
}

export interface OutboxPublishingDeps {
  store: BookingStore;
  publisher: OutboxPublisher;
  logger: Logger;
  metrics: BookingMetrics;
}

/** What one pass did. */
export interface RelayCycle {
  published: number;
  failed: number;
  /** More rows were waiting than one batch took. */
  more: boolean;
}

/** Failed rows named in one log line (a broker outage fails the whole batch). */
const LOGGED_IDS_PER_ERROR = 10;

interface OutboxFailure {
  id: string;
  routingKey: string;
  reason: unknown;
  error: string;
}

/**
 * One claim-publish-mark pass: claims up to `batchSize` unpublished rows oldest first (FOR UPDATE SKIP LOCKED,
 * so several relays never take the same row), publishes all of them at once (each publish resolves on its
 * own confirm), then marks the confirmed rows published and the others failed (attempts + 1, last_error),
 * each in one statement, in the claim's transaction. A row is only republished if the mark did not commit;
 * consumers dedupe by message id.
 */
export async function publishOutboxBatch(deps: OutboxPublishingDeps, batchSize: number): Promise<RelayCycle> {
  const { store, publisher, logger, metrics } = deps;
  if (!publisher.isConnected()) return { published: 0, failed: 0, more: false };
  return store.transaction(async (tx) => {
    const rows = await tx.outbox.claimBatch(batchSize);
    if (rows.length === 0) return { published: 0, failed: 0, more: false };
    const outcomes = await Promise.allSettled(rows.map((row) => publishInItsTrace(publisher, row)));
    const published: string[] = [];
    const failures: OutboxFailure[] = [];
    outcomes.forEach((outcome, index) => {
      const row = rows[index];
      if (outcome.status === 'fulfilled') {
        published.push(row.id);
        metrics.messagePublished(row.routing_key, 'published');
      } else {
        failures.push({ id: row.id, routingKey: row.routing_key, reason: outcome.reason, error: errorMessage(outcome.reason) });
        metrics.messagePublished(row.routing_key, 'failed');
      }
    });
    logFailures(logger, failures);
    await tx.outbox.markPublished(published);
    await tx.outbox.markFailed(failures);
    return { published: published.length, failed: failures.length, more: rows.length === batchSize && failures.length === 0 };
  });
}

function errorMessage(error: unknown): string {
  return (error as Error | undefined)?.message ?? String(error);
}

/** One warning per distinct error (a broker outage fails every row of the batch the same way). */
function logFailures(logger: Logger, failures: OutboxFailure[]) {
  const byError = new Map<string, OutboxFailure[]>();
  for (const failure of failures) {
    const group = byError.get(failure.error);
    if (group) group.push(failure);
    else byError.set(failure.error, [failure]);
  }
  for (const group of byError.values()) {
    const [first] = group;
    logger.warn(
      {
        err: first.reason,
        message_id: first.id,
        routing_key: first.routingKey,
        failed: group.length,
        message_ids: group.slice(0, LOGGED_IDS_PER_ERROR).map((failure) => failure.id),
      },
      'Publishing outbox row failed; will retry',
    );
  }
}

/**
 * Publishes a row as a child of the request that wrote it: the trace context stored with the row (the
 * confirm's, the cancel's) becomes the parent of an `outbox.publish` span, and the publisher carries that
 * span on in the message headers to the consumer (each message its own: the header is written before Rascal
 * queues the publish, and nothing downstream rewrites it). Rows written outside any trace (the expiry sweep)
 * start one each.
 */
function publishInItsTrace(publisher: OutboxPublisher, row: OutboxRow): Promise<void> {
  const headers = row.headers ?? {};
  const parent = Object.keys(headers).length ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
  return context.with(parent, () =>
    withSpan(
      'booking-service',
      'outbox.publish',
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'rabbitmq',
          'messaging.operation.type': 'send',
          'messaging.operation.name': 'publish',
          'messaging.destination.name': TICKETING_EXCHANGE,
          'messaging.rabbitmq.destination.routing_key': row.routing_key,
          'messaging.message.id': row.id,
          'ticketing.reservation_id': (row.payload as TicketingEvent).data?.reservation_id,
          'ticketing.outbox_attempts': row.attempts ?? 0,
        },
      },
      () => publisher.publish(row.payload as TicketingEvent),
    ),
  );
}
