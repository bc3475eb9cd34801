import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { requestContext, type Logger } from '@ticketing/platform';
import { publishOutboxBatch, type OutboxPublisher, type RelayCycle } from '../domain/outbox-publishing';
import type { BookingMetrics, OutboxKicker } from '../domain/ports';
import type { BookingStore, OutboxBacklog } from '../domain/store';

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
   * Passes in flight at once (default 2; each holds a pooled connection while it waits). A pass waits for the
   * broker's confirms of its whole batch; rows committed meanwhile go out in a pass of their own instead of waiting for it (SKIP LOCKED keeps the passes'
   * rows apart).
   */
  maxConcurrentPasses?: number;
}

/** Rows claimed per pass: all of them are in flight to the broker at once. */
const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_CONCURRENT_PASSES = 2;

/**
 * The job that runs publishOutboxBatch (domain/outbox-publishing.ts): polls every pollIntervalMs, runs at once
 * when kicked after a commit that wrote a row, runs again at once while batches come back full, and backs off
 * (doubling, up to maxBackoffMs) while passes fail. Not the platform's periodic job: kicks, backoff and
 * concurrent passes are its whole point.
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

  /** One claim-publish-mark pass (see publishOutboxBatch); exported for tests and for a one-shot drain. */
  runOnce(): Promise<RelayCycle> {
    const { store, publisher, logger, metrics } = this.options;
    return publishOutboxBatch({ store, publisher, logger, metrics }, this.options.batchSize ?? DEFAULT_BATCH_SIZE);
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
