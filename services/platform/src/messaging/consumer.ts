import type { AckOrNack, BrokerAsPromised } from 'rascal';
import type { Message } from 'amqplib';
import type { Logger } from 'pino';
import { ROOT_CONTEXT, SpanKind, context, propagation, trace, type Context } from '@opentelemetry/api';
import { requestContext } from '../context';
import { tracingEnabled, withSpan } from '../spans';
import { ticketingEventSchema, type TicketingEvent } from './events';
import { EVENT_SERVICE_SUBSCRIPTION } from './topology';

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
 * The parent of the handling span: the amqplib instrumentation's consume span when it is active (it already
 * continues the publisher's trace), otherwise the W3C trace context the publisher put in the headers.
 */
function parentContext(message: Message): Context {
  const active = context.active();
  if (trace.getSpan(active)?.spanContext().traceId) return active;
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

  /** The handler inside a consumer span that continues the first message's trace and links the others'. */
  private run(batch: Delivery[]): Promise<void> {
    const events = batch.map((delivery) => delivery.event);
    const [first] = batch;
    const work = () => this.handler(events);
    if (!tracingEnabled()) return requestContext.run({ requestId: first.event.id }, work);
    const attributes = {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.rabbitmq.destination.routing_key': first.message.fields.routingKey,
      'messaging.message.id': first.event.id,
      'messaging.batch.message_count': batch.length,
      'ticketing.reservation_id': first.event.data.reservation_id,
    };
    const links = batch
      .slice(1)
      .map((delivery) => trace.getSpanContext(delivery.parent))
      .filter((spanContext) => spanContext !== undefined)
      .map((spanContext) => ({ context: spanContext }));
    const name = batch.length === 1 ? `process ${first.event.type}` : 'process batch';
    return context.with(first.parent, () =>
      requestContext.run({ requestId: first.event.id }, () =>
        withSpan('@ticketing/platform', name, { kind: SpanKind.CONSUMER, attributes, links }, work),
      ),
    );
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
    logger.info(
      { routing_key: message.fields.routingKey, reservation_id: event.data.reservation_id, message_id: event.id, redelivered: message.fields.redelivered },
      'Received message',
    );
    dispatcher.push({ event, message, ackOrNack, parent: parentContext(message) });
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
