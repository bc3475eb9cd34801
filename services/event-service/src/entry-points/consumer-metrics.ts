import { ROUTING_KEYS, type ConsumeOutcome, type QueueDepthProbe, type TicketingEvent } from '@ticketing/platform';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What became of a message: the platform's outcomes, plus 'duplicate' for one already applied. */
export type Outcome = ConsumeOutcome | 'duplicate';
const OUTCOMES: Outcome[] = ['applied', 'duplicate', 'retried', 'dead_lettered'];

const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

/** The consumer's metrics; every series exists from the start at zero. */
export function consumerMetrics(registry: Registry, probes: { subscribed: () => boolean; queues: QueueDepthProbe }) {
  new Gauge({
    name: 'consumer_subscribed',
    help: '1 while this consumer is connected to RabbitMQ and subscribed to event_service_queue, else 0',
    registers: [registry],
    collect() {
      this.set(probes.subscribed() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'event_queue_messages',
    help: 'Messages waiting in event_service_queue and in its dead-letter queue event_service_queue.dead (read at scrape time)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const depths = await probes.queues.depths();
      // No value rather than a stale one while the broker cannot be asked.
      this.reset();
      for (const [queue, messages] of Object.entries(depths ?? {})) this.set({ queue }, messages);
    },
  });
  const metrics = {
    consumed: new Counter({
      name: 'messages_consumed_total',
      help: 'Booking events handled, by routing key and outcome (applied, duplicate, retried, dead_lettered)',
      labelNames: ['routing_key', 'outcome'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'messages_dead_lettered_total',
      help: 'Booking events sent to the dead-letter queue, by routing key',
      labelNames: ['routing_key'],
      registers: [registry],
    }),
    batchMessages: new Histogram({
      name: 'consumer_batch_messages',
      help: 'Messages applied per database transaction (a batch: what arrived while the previous one was applied)',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'consumer_lag_seconds',
      help:
        'Time from an event occurring (occurred_at) to its change being applied to the seat inventory, by routing key ' +
        '(reservation.confirmed: the confirm -> sold delay)',
      labelNames: ['routing_key'],
      buckets: LAG_BUCKETS,
      registers: [registry],
    }),
  };
  // Every series exists from the start at zero, so increase() sees the first dead letter too.
  for (const routingKey of [...ROUTING_KEYS, 'unknown']) {
    for (const outcome of OUTCOMES) metrics.consumed.inc({ routing_key: routingKey, outcome }, 0);
    metrics.deadLettered.inc({ routing_key: routingKey }, 0);
  }
  for (const routingKey of ROUTING_KEYS) metrics.lag.zero({ routing_key: routingKey });
  return metrics;
}

/** Bounded label values: one of the four routing keys, or "unknown" for anything else that reached the queue. */
export const routingKeyLabel = (routingKey: string, event?: TicketingEvent): string =>
  event?.type ?? ((ROUTING_KEYS as readonly string[]).includes(routingKey) ? routingKey : 'unknown');
