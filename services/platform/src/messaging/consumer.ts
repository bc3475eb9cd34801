import type { BrokerAsPromised, Recovery } from 'rascal';
import type { Message } from 'amqplib';
import type { Logger } from 'pino';
import { ROOT_CONTEXT, SpanKind, context, propagation, trace, type Context } from '@opentelemetry/api';
import { requestContext } from '../context';
import { withSpan } from '../spans';
import { ticketingEventSchema, type TicketingEvent } from './events';
import { EVENT_SERVICE_SUBSCRIPTION } from './topology';

export type ConsumeOutcome = 'applied' | 'retried' | 'dead_lettered';

export interface ConsumerOptions {
  logger: Logger;
  /** Handling attempts (the first delivery included) before a failing message is dead-lettered. */
  maxAttempts: number;
  /** Delay before a failed message is retried. */
  retryDelayMs?: number;
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

export type EventHandler = (event: TicketingEvent, message: Message) => Promise<void>;

/**
 * The parent of the handling span: the amqplib instrumentation's consume span when it is active (it already
 * continues the publisher's trace), otherwise the W3C trace context the publisher put in the headers.
 */
function parentContext(message: Message): Context {
  const active = context.active();
  if (trace.getSpan(active)?.spanContext().traceId) return active;
  return propagation.extract(ROOT_CONTEXT, message.properties.headers ?? {});
}

/**
 * Subscribes `handler` to the event service's queue. Content that is not a valid event is dead-lettered
 * at once (a poison message must not loop); a handler failure is retried with a delay a bounded number
 * of times and then dead-lettered. Trace context from the headers becomes the handler's parent.
 */
export async function consumeEvents(broker: BrokerAsPromised, handler: EventHandler, options: ConsumerOptions) {
  const { logger } = options;
  const subscription = await broker.subscribe(options.subscription ?? EVENT_SERVICE_SUBSCRIPTION);
  const deadLetter = (reason: string, message: Message, error: Error, ackOrNack: (err?: Error, recovery?: Recovery | Recovery[]) => void) => {
    logger.error({ err: error, routing_key: message.fields.routingKey, message_id: message.properties.messageId }, reason);
    options.onOutcome?.(message.fields.routingKey, 'dead_lettered');
    ackOrNack(error, { strategy: 'nack' });
  };

  subscription.on('message', (message: Message, content: unknown, ackOrNack) => {
    const routingKey = message.fields.routingKey;
    const parsed = ticketingEventSchema.safeParse(content);
    if (!parsed.success) {
      deadLetter('Message does not match the event schema; dead-lettering', message, new Error(parsed.error.message), ackOrNack);
      return;
    }
    const event = parsed.data;
    const attributes = {
      'messaging.system': 'rabbitmq',
      'messaging.operation.type': 'process',
      'messaging.rabbitmq.destination.routing_key': routingKey,
      'messaging.message.id': event.id,
      'ticketing.reservation_id': event.data.reservation_id,
    };
    void context.with(parentContext(message), () =>
      requestContext.run({ requestId: event.id }, async () => {
        logger.info(
          { routing_key: routingKey, reservation_id: event.data.reservation_id, message_id: event.id, redelivered: message.fields.redelivered },
          'Received message',
        );
        try {
          await withSpan('@ticketing/platform', `process ${event.type}`, { kind: SpanKind.CONSUMER, attributes }, () =>
            handler(event, message),
          );
          options.onOutcome?.(routingKey, 'applied', event);
          ackOrNack();
        } catch (error) {
          const attempt = previousAttempts(message) + 1;
          if (attempt >= options.maxAttempts) {
            deadLetter(`Handling failed ${attempt} times; dead-lettering`, message, error as Error, ackOrNack);
            return;
          }
          logger.warn({ err: error, routing_key: routingKey, message_id: event.id, attempt }, 'Handling failed; will retry');
          options.onOutcome?.(routingKey, 'retried', event);
          ackOrNack(error as Error, { strategy: 'republish', defer: options.retryDelayMs ?? 1_000 });
        }
      }),
    );
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
