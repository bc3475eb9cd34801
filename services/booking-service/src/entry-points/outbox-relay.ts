import { ROOT_CONTEXT, SpanKind, context, propagation } from '@opentelemetry/api';
import { TICKETING_EXCHANGE, requestContext, withSpan, type Logger, type TicketingEvent } from '@ticketing/platform';
import type { BookingStore } from '../domain/store';
import type { OutboxRow } from '../domain/records';
import type { OutboxBacklog } from '../domain/store';
import type { BookingMetrics, OutboxKicker } from '../domain/ports';

export interface OutboxPublisher {
  /**
   * Resolves once the broker confirmed the message; rejects when it did not. Called inside the row's
   * `outbox.publish` span, whose trace context the publisher puts in the message headers.
   */
  publish(event: TicketingEvent): Promise<void>;
  /** False while there is no broker connection (rows then simply wait). */
  isConnected(): boolean;
}

export interface OutboxRelayOptions {
  store: BookingStore;
  publisher: OutboxPublisher;
  logger: Logger;
  metrics: BookingMetrics;
  pollIntervalMs: number;
  batchSize?: number;
  /** Longest wait between attempts while publishing keeps failing. */
  maxBackoffMs?: number;
  /**
   * Passes in flight at once (default 2; each holds a pooled connection while it waits). A pass waits for the broker's confirms of its whole batch; rows
   * committed meanwhile go out in a pass of their own instead of waiting for it (SKIP LOCKED keeps the passes'
   * rows apart).
   */
  maxConcurrentPasses?: number;
}

/** Rows claimed per pass: all of them are in flight to the broker at once. */
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_CONCURRENT_PASSES = 2;
/** Failed rows named in one log line (a broker outage fails the whole batch). */
const LOGGED_IDS_PER_ERROR = 10;

interface OutboxFailure {
  id: string;
  routingKey: string;
  reason: unknown;
  error: string;
}

export interface RelayCycle {
  published: number;
  failed: number;
  /** More rows were waiting than one batch took. */
  more: boolean;
}

/**
 * Publishes outbox rows: claims a batch of unpublished rows oldest first (FOR UPDATE SKIP LOCKED, so several
 * relays never take the same row), publishes all of them at once with publisher confirms, and marks the
 * confirmed ones published in the same transaction. A failed row stays (attempts + 1, last_error) and the
 * relay backs off; a row is only republished if the mark did not commit, and consumers dedupe by message id
 * (and accept events in any order). Polls every pollIntervalMs, runs at once when kicked after a commit that
 * wrote a row, and runs again at once while batches come back full.
 */
export class OutboxRelay implements OutboxKicker {
  private timer: NodeJS.Timeout | undefined;
  private readonly passes = new Set<Promise<void>>();
  private again = false;
  private started = false;
  private stopped = false;
  private failures = 0;

  constructor(private readonly options: OutboxRelayOptions) {}

  private get maxPasses(): number {
    return Math.max(1, this.options.maxConcurrentPasses ?? DEFAULT_CONCURRENT_PASSES);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Publish now (called right after a transaction that wrote outbox rows). */
  kick(): void {
    if (!this.started || this.stopped) return;
    // While backing off after failures, or with every pass slot taken, the next pass picks the rows up.
    if (this.failures > 0 || this.passes.size >= this.maxPasses) {
      this.again = true;
      return;
    }
    this.detached(() => this.launch());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.passes.size) await Promise.all([...this.passes]);
  }

  backlog(): Promise<OutboxBacklog> {
    return this.options.store.outbox.backlog();
  }

  /**
   * One claim-publish-mark pass; exported for tests and for a one-shot drain. The whole batch is published at
   * once (each publish resolves on its own confirm), then the confirmed rows are marked published and the
   * others failed, each in one statement, in the claim's transaction.
   */
  async runOnce(): Promise<RelayCycle> {
    const { store, publisher, logger, metrics } = this.options;
    if (!publisher.isConnected()) return { published: 0, failed: 0, more: false };
    const batchSize = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
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

  /**
   * Runs `work` outside the request that kicked the relay: its rows carry their own trace context, and the
   * relay's queries and log lines belong to no request.
   */
  private detached(work: () => void) {
    requestContext.exit(() => context.with(ROOT_CONTEXT, work));
  }

  private schedule(delayMs: number) {
    clearTimeout(this.timer);
    this.detached(() => {
      this.timer = setTimeout(() => this.tick(), delayMs).unref();
    });
  }

  private tick(): void {
    if (this.stopped || this.passes.size >= this.maxPasses) return;
    this.launch();
  }

  private launch(): void {
    clearTimeout(this.timer);
    const pass: Promise<void> = this.runPass().then((outcome) => {
      this.passes.delete(pass);
      this.afterPass(outcome);
    });
    this.passes.add(pass);
  }

  private async runPass(): Promise<RelayCycle | { error: unknown }> {
    try {
      return await this.runOnce();
    } catch (error) {
      return { error };
    }
  }

  private afterPass(outcome: RelayCycle | { error: unknown }) {
    if (this.stopped) return;
    const failed = 'error' in outcome || outcome.failed > 0;
    if (failed) {
      if ('error' in outcome) this.options.logger.warn({ err: outcome.error }, 'Outbox relay pass failed; backing off');
      this.failures += 1;
      this.again = false;
      // Every other pass in flight ends first; the backoff timer then starts the next one.
      if (this.passes.size === 0) {
        this.schedule(Math.min(this.options.pollIntervalMs * 2 ** this.failures, this.options.maxBackoffMs ?? 30_000));
      }
      return;
    }
    if (this.failures > 0 && this.passes.size > 0) return;
    this.failures = 0;
    if (outcome.more || this.again) {
      this.again = false;
      this.launch();
    } else if (this.passes.size === 0) {
      this.schedule(this.options.pollIntervalMs);
    }
  }
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
