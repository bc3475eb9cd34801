import type { AckOrNack, BrokerAsPromised } from 'rascal';
import type { Message } from 'amqplib';
import type { Logger } from 'pino';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { runWithRequestId } from '../context';
import { tracingEnabled, withSpan } from '../spans';
import { ticketingEventSchema, type TicketingEvent } from './events';
import { EVENT_SERVICE_QUEUE, EVENT_SERVICE_SUBSCRIPTION } from './topology';

export type ConsumeOutcome = 'applied' | 'retried' | 'dead_lettered';

export interface ConsumerOptions {
  logger: Logger;
  /** Handling attempts (the first delivery included) before a failing message is dead-lettered. */
  maxAttempts: number;
  /** Delay before a failed message is retried. */
  retryDelayMs?: number;
  /**
   * Most messages handed to the handler at once (default 1). Messages that arrive while a batch is being
   * handled wait and form the next batch, so a quiet queue is handled message by message, without delay,
   * and a busy one in batches of up to this size (bounded by the subscription's prefetch too).
   */
  maxBatchSize?: number;
  subscription?: string;
  /** Called after each message with its fate, for metrics. */
  onOutcome?: (routingKey: string, outcome: ConsumeOutcome, event?: TicketingEvent) => void;
}

/** How many times Rascal has already republished this message after a failure. */
function previousAttempts(message: Message): number {
  const recovery = (message.properties.headers?.rascal as { recovery?: Record<string, { republished?: number }> } | undefined)
    ?.recovery;
  return Math.max(0, ...Object.values(recovery ?? {}).map((entry) => entry?.republished ?? 0));
}

/**
 * Applies a batch of events, in delivery order, all or nothing: resolves when every one of them is
 * applied, rejects when none is. A rejected batch of several is retried message by message, so one
 * failing message never holds back the others.
 */
export type EventBatchHandler = (events: TicketingEvent[]) => Promise<void>;

/**
 * The producer's context: the W3C trace context the publisher put in the headers (publishEvent, inside the
 * producer span). Never the context that happens to be active when Rascal emits the message: that is
 * whatever the connection's socket was created under, not this message's.
 */
function producerContext(message: Message): Context {
  return propagation.extract(ROOT_CONTEXT, message.properties.headers ?? {});
}

interface Delivery {
  event: TicketingEvent;
  message: Message;
  ackOrNack: AckOrNack;
  parent: Context;
}

type DeadLetter = (reason: string, message: Message, error: Error, ackOrNack: AckOrNack) => void;

/**
 * Hands validated deliveries to the handler in batches: at most one batch in flight, the next made of
 * whatever arrived meanwhile. Started on the next turn of the event loop, so the messages of one socket
 * read share the first batch.
 */
class BatchDispatcher {
  private readonly waiting: Delivery[] = [];
  private draining = false;

  constructor(
    private readonly handler: EventBatchHandler,
    private readonly options: ConsumerOptions,
    private readonly deadLetter: DeadLetter,
  ) {}

  push(delivery: Delivery) {
    this.waiting.push(delivery);
    if (this.draining) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private async drain() {
    try {
      while (this.waiting.length) await this.handle(this.waiting.splice(0, this.options.maxBatchSize ?? 1));
    } finally {
      this.draining = false;
    }
  }

  private async handle(batch: Delivery[]): Promise<void> {
    try {
      await this.run(batch);
    } catch (error) {
      if (batch.length > 1) {
        this.options.logger.warn({ err: error, messages: batch.length }, 'Batch failed; handling its messages one by one');
        for (const delivery of batch) await this.handle([delivery]);
        return;
      }
      this.failed(batch[0], error as Error);
      return;
    }
    for (const { event, message, ackOrNack } of batch) {
      this.options.onOutcome?.(message.fields.routingKey, 'applied', event);
      ackOrNack();
    }
  }

  /**
   * The handler inside consumer spans, following OpenTelemetry's messaging conventions for batches. A batch of
   * one: a `process <routing key>` span in the message's own trace, around the handler. A batch of several:
   * each message still gets its own `process <routing key>` span in its own trace (so every reservation's
   * trace holds exactly its own publish and consume), linked to one `process batch` span that starts a trace
   * of its own, links every message's producer context and holds the handler's work (the one transaction
   * for all of them).
   */
  private run(batch: Delivery[]): Promise<void> {
    const events = batch.map((delivery) => delivery.event);
    const [first] = batch;
    const work = () => this.handler(events);
    if (!tracingEnabled()) return runWithRequestId(first.event.id, work);
    if (batch.length === 1) {
      return context.with(first.parent, () =>
        runWithRequestId(first.event.id, () =>
          withSpan(TRACER, `process ${first.message.fields.routingKey}`, { kind: SpanKind.CONSUMER, attributes: messageAttributes(first) }, work),
        ),
      );
    }
    return runBatchInSpans(batch, work);
  }

  private failed({ event, message, ackOrNack }: Delivery, error: Error) {
    const attempt = previousAttempts(message) + 1;
    if (attempt >= this.options.maxAttempts) {
      this.deadLetter(`Handling failed ${attempt} times; dead-lettering`, message, error, ackOrNack);
      return;
    }
    this.options.logger.warn({ err: error, routing_key: message.fields.routingKey, message_id: event.id, attempt }, 'Handling failed; will retry');
    this.options.onOutcome?.(message.fields.routingKey, 'retried', event);
    ackOrNack(error, { strategy: 'republish', defer: this.options.retryDelayMs ?? 1_000 });
  }
}

/**
 * Subscribes `handler` to the event service's queue. Content that is not a valid event is dead-lettered
 * at once (a poison message must not loop); a handler failure is retried with a delay a bounded number
 * of times and then dead-lettered. Trace context from the headers becomes the handler's parent.
 */
export async function consumeEvents(broker: BrokerAsPromised, handler: EventBatchHandler, options: ConsumerOptions) {
  const { logger } = options;
  const subscription = await broker.subscribe(options.subscription ?? EVENT_SERVICE_SUBSCRIPTION);
  const deadLetter: DeadLetter = (reason, message, error, ackOrNack) => {
    logger.error({ err: error, routing_key: message.fields.routingKey, message_id: message.properties.messageId }, reason);
    options.onOutcome?.(message.fields.routingKey, 'dead_lettered');
    ackOrNack(error, { strategy: 'nack' });
  };
  const dispatcher = new BatchDispatcher(handler, options, deadLetter);

  subscription.on('message', (message: Message, content: unknown, ackOrNack: AckOrNack) => {
    const parsed = ticketingEventSchema.safeParse(content);
    if (!parsed.success) {
      deadLetter('Message does not match the event schema; dead-lettering', message, new Error(parsed.error.message), ackOrNack);
      return;
    }
    const event = parsed.data;
    const parent = producerContext(message);
    // Logged in the producer's context, so the line carries this message's trace id.
    context.with(parent, () =>
      logger.info(
        { routing_key: message.fields.routingKey, reservation_id: event.data.reservation_id, message_id: event.id, redelivered: message.fields.redelivered },
        'Received message',
      ),
    );
    dispatcher.push({ event, message, ackOrNack, parent });
  });
  subscription.on('invalid_content', (error: Error, message: Message, ackOrNack) =>
    deadLetter('Message is not valid JSON; dead-lettering', message, error, ackOrNack),
  );
  subscription.on('redeliveries_exceeded', (error: Error, message: Message, ackOrNack) =>
    deadLetter('Message redelivered too often; dead-lettering', message, error, ackOrNack),
  );
  subscription.on('redeliveries_error', (error: Error, message: Message, ackOrNack) =>
    deadLetter('Redelivery counter failed; dead-lettering', message, error, ackOrNack),
  );
  subscription.on('error', (error: Error) => logger.error({ err: error }, 'Subscription error'));
  return subscription;
}

const TRACER = '@ticketing/platform';

/** Stable-convention messaging attributes of one consumed message. */
function messageAttributes({ event, message }: Delivery): Attributes {
  return {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': EVENT_SERVICE_QUEUE,
    'messaging.rabbitmq.destination.routing_key': message.fields.routingKey,
    'messaging.message.id': event.id,
    'ticketing.reservation_id': event.data.reservation_id,
  };
}

function endSpan(span: Span, error: unknown) {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  }
  span.end();
}

async function runBatchInSpans(batch: Delivery[], work: () => Promise<void>): Promise<void> {
  const tracer = trace.getTracer(TRACER);
  const producerLinks = batch
    .map((delivery) => trace.getSpanContext(delivery.parent))
    .filter((spanContext) => spanContext !== undefined)
    .map((spanContext) => ({ context: spanContext }));
  const batchSpan = tracer.startSpan(
    'process batch',
    {
      kind: SpanKind.CONSUMER,
      root: true,
      links: producerLinks,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': EVENT_SERVICE_QUEUE,
        'messaging.batch.message_count': batch.length,
      },
    },
    ROOT_CONTEXT,
  );
  const batchLink = [{ context: batchSpan.spanContext() }];
  const messageSpans = batch.map((delivery) =>
    tracer.startSpan(
      `process ${delivery.message.fields.routingKey}`,
      { kind: SpanKind.CONSUMER, links: batchLink, attributes: { ...messageAttributes(delivery), 'messaging.batch.message_count': batch.length } },
      delivery.parent,
    ),
  );
  let failure: unknown;
  try {
    await context.with(trace.setSpan(ROOT_CONTEXT, batchSpan), () => runWithRequestId(batch[0].event.id, work));
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    for (const span of messageSpans) endSpan(span, failure);
    endSpan(batchSpan, failure);
  }
}
