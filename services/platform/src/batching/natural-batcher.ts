import { trace, type Link } from '@opentelemetry/api';
import { tracingEnabled } from '../spans';
import { requestContext, type RequestContext } from '../context';

/** What one item of a batch came to: its value, or the error that only its submitter sees. */
export type ItemOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

/** Runs `work` and tells its value or its error as an outcome (for batch runs that answer item by item). */
export async function outcomeOf<O>(work: () => Promise<O>): Promise<ItemOutcome<O>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Facts about one dispatched batch, for metrics and the batch's span. */
export interface BatchInfo {
  size: number;
  /** Seconds each item waited between submit() and its batch's dispatch (0 for an item sent at once). */
  waits: number[];
  /** The submitters' span contexts (tracing on only): the batch's span links to them. */
  links: Link[];
}

export interface NaturalBatcherOptions<I, O> {
  /** Most items in one batch; the rest wait for the next one. */
  maxBatchSize: number;
  /** Batches in flight at once (default 1). Another batch starts only while fewer are in flight. */
  maxInFlight?: number;
  /**
   * Runs one batch: one outcome per item, in the items' order. A rejection fails every item of the batch
   * with that error (the run could not say which items applied, so each submitter must assume its might have).
   */
  run(items: I[], info: BatchInfo): Promise<Array<ItemOutcome<O>>>;
}

interface Pending<I, O> {
  item: I;
  /** The submitter's request context (request id, active span), restored when the item goes out alone. */
  context: RequestContext | undefined;
  submittedAt: bigint;
  link?: Link;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Natural batching: an item submitted while fewer than `maxInFlight` batches run is dispatched at once (a lone
 * request never waits); items submitted while they are all busy queue, and go together, up to `maxBatchSize`,
 * as soon as one finishes. Under light load every batch has one item; under heavy load batches grow by
 * themselves to what arrived during one batch's run. No timer, no added delay.
 */
export class NaturalBatcher<I, O> {
  private readonly queue: Array<Pending<I, O>> = [];
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(private readonly options: NaturalBatcherOptions<I, O>) {
    if (!(options.maxBatchSize >= 1)) throw new Error('maxBatchSize must be at least 1');
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  /** Items waiting for a batch slot (not counting those in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const link = tracingEnabled() ? spanLink() : undefined;
      this.queue.push({ item, context: requestContext.getStore(), submittedAt: process.hrtime.bigint(), link, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatchSize);
      this.inFlight += 1;
      void this.runBatch(batch);
    }
  }

  private finished(): void {
    this.inFlight -= 1;
    this.dispatch();
  }

  private async runBatch(batch: Array<Pending<I, O>>): Promise<void> {
    const now = process.hrtime.bigint();
    const info: BatchInfo = {
      size: batch.length,
      waits: batch.map((pending) => Number(now - pending.submittedAt) / 1e9),
      links: batch.flatMap((pending) => (pending.link ? [pending.link] : [])),
    };
    let outcomes: Array<ItemOutcome<O>>;
    try {
      // A batch may be dispatched from the end of another one: run a lone item in its own submitter's context
      // (its trace, its request id), a real batch in none of theirs.
      // (The request context's store, not an AsyncResource per item: that would cost an async hook per submit.)
      const items = batch.map((pending) => pending.item);
      const run = () => this.options.run(items, info);
      const context = batch.length === 1 ? batch[0].context : undefined;
      outcomes = await (context ? requestContext.run(context, run) : requestContext.exit(run));
    } catch (error) {
      this.finished();
      for (const pending of batch) pending.reject(error);
      return;
    }
    // The next batch leaves before this one's answers are handed out.
    this.finished();
    batch.forEach((pending, index) => {
      const outcome = outcomes[index];
      if (!outcome) pending.reject(new Error(`Batch returned no outcome for item ${index} of ${batch.length}`));
      else if (outcome.ok) pending.resolve(outcome.value);
      else pending.reject(outcome.error);
    });
  }
}

function spanLink(): Link | undefined {
  const context = trace.getActiveSpan()?.spanContext();
  return context ? { context } : undefined;
}
