import {
  BrokerConnection,
  EVENT_SERVICE_DEAD_LETTER_QUEUE,
  EVENT_SERVICE_QUEUE,
  ROUTING_KEYS,
  brokerConfig,
  consumeEvents,
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  pingDatabase,
  queueDepthProbe,
  startHttpServer,
  withSpan,
  type ConsumeOutcome,
  type QueueDepthProbe,
  type Logger,
  type TicketingEvent,
} from '@ticketing/platform';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { resolveEventConfig, type EventConfig, type EventOverrides } from '../config';
import { openEventDatabase } from '../data-access/database';
import { publishingSeatInventory } from '../data-access/publishing-seat-inventory';
import { openSeatChangeStream } from '../data-access/seat-change-stream';
import { seatInventoryRepository } from '../data-access/seat-inventory-repository';
import { applyBookingEvents, type BookingEventStore } from '../domain/booking-events';
import { purgeOldMessageIds, type ProcessedMessageStore } from '../domain/message-retention';
import { scheduleLapsedHoldCheck } from './lapsed-hold-job';
import { seatChangePublishFailures } from './seat-map-stream-metrics';

export interface EventConsumer {
  /** Base URL of the consumer's /health, /ready and /metrics server (METRICS_PORT). */
  url: string;
  port: number;
  config: EventConfig;
  /** Runs one lapsed-hold check now (it also runs every LAPSED_HOLD_CHECK_INTERVAL_SECONDS). */
  checkLapsedHolds(): Promise<void>;
  /** Stops taking messages, lets the ones in hand finish, then closes the broker, server and pool. */
  stop(): Promise<void>;
}

type Outcome = ConsumeOutcome | 'duplicate';
const OUTCOMES: Outcome[] = ['applied', 'duplicate', 'retried', 'dead_lettered'];

const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];

function consumerMetrics(registry: Registry, probes: { subscribed: () => boolean; queues: QueueDepthProbe }) {
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
const routingKeyLabel = (routingKey: string, event?: TicketingEvent): string =>
  event?.type ?? ((ROUTING_KEYS as readonly string[]).includes(routingKey) ? routingKey : 'unknown');

/** Failures worth waiting out in place (the database restarting or briefly overloaded) before Rascal's retry. */
function isTransientDatabaseError(error: unknown): boolean {
  const err = error as { code?: string; name?: string };
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(
      err?.code ?? '',
    ) ||
    (err?.code ?? '').startsWith('08') ||
    err?.name === 'KnexTimeoutError'
  );
}

/** How often the consumer deletes message ids older than PROCESSED_MESSAGES_RETENTION_HOURS. */
const RETENTION_INTERVAL_MS = 3_600_000;
/** The first purge waits this long after start, out of the way of a restart's backlog. */
const FIRST_RETENTION_DELAY_MS = 60_000;

/**
 * Runs the processed_messages purge every hour (first a minute after start); `stop` clears the timer and waits
 * for a purge in progress. Never overlaps itself; a failure is logged and tried again at the next hour.
 */
function scheduleRetention(store: ProcessedMessageStore, retentionHours: number, logger: Logger) {
  if (retentionHours <= 0) return { stop: async () => undefined };
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout;
  const run = () => {
    running ??= purgeOldMessageIds(store, retentionHours * 3600)
      .then((purged) => {
        if (purged) logger.info({ purged, retention_hours: retentionHours }, 'Deleted old processed message ids');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'Purging old processed message ids failed; will retry'))
      .finally(() => {
        running = undefined;
      });
  };
  timer = setTimeout(() => {
    run();
    timer = setInterval(run, RETENTION_INTERVAL_MS).unref();
  }, FIRST_RETENTION_DELAY_MS).unref();
  return {
    stop: async () => {
      clearTimeout(timer); // clears the interval too (one timer type in Node)
      await running;
    },
  };
}

/** The one value every element has, or 'mixed' (a span attribute for a whole batch). */
const sameOrMixed = (values: string[]): string => (values.every((value) => value === values[0]) ? values[0] : 'mixed');

/**
 * The batch handler given to the platform's consumer: applies the events through the seat inventory in one
 * transaction, waiting out short database outages in place (up to `transientBudgetMs`) so they do not use up
 * the bounded attempts.
 */
function bookingEventHandler(deps: {
  inventory: BookingEventStore;
  logger: Logger;
  /** Marks events that turned out to be duplicates, so the metrics can tell them from applied ones. */
  duplicates: WeakSet<TicketingEvent>;
  isStopping: () => boolean;
  onBatch: (messages: number) => void;
  transientBudgetMs?: number;
}) {
  const { inventory, logger, duplicates } = deps;
  return async (events: TicketingEvent[]) => {
    deps.onBatch(events.length);
    const deadline = Date.now() + (deps.transientBudgetMs ?? 30_000);
    for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
      try {
        const results = await withSpan(
          'event-service',
          'seat_inventory.apply_event',
          {
            attributes: {
              'ticketing.routing_key': sameOrMixed(events.map((event) => event.type)),
              'ticketing.message_count': events.length,
              'ticketing.seat_count': events.reduce((seats, event) => seats + event.data.session_seat_ids.length, 0),
            },
          },
          async (span) => {
            const applied = await applyBookingEvents(inventory, events, logger);
            span?.setAttribute('ticketing.result', sameOrMixed(applied));
            return applied;
          },
        );
        results.forEach((result, index) => {
          if (result === 'duplicate') duplicates.add(events[index]);
        });
        return;
      } catch (error) {
        if (isTransientDatabaseError(error) && Date.now() + pause < deadline && !deps.isStopping()) {
          logger.warn({ err: error, message_ids: events.map((event) => event.id) }, 'Database unavailable; retrying the messages in place');
          await new Promise((resolve) => setTimeout(resolve, pause));
          continue;
        }
        // The platform retries the batch message by message, and dead-letters a message after
        // CONSUMER_MAX_ATTEMPTS attempts.
        throw error;
      }
    }
  };
}

/**
 * Starts the event service's RabbitMQ consumer: applies reservation.confirmed / expired / cancelled and
 * ticket.refunded to the seat inventory, and serves /health, /ready (database + broker) and /metrics on
 * METRICS_PORT. The broker may be down at start: the consumer keeps trying and /ready says so meanwhile.
 */
export async function startEventConsumer(overrides: EventOverrides = {}): Promise<EventConsumer> {
  const config = resolveEventConfig(overrides);
  const logger = createLogger('event-consumer', config.LOG_LEVEL);
  const registry = createMetricsRegistry('event-consumer');
  const db = openEventDatabase(config.DATABASE_URL, config.DB_POOL_MAX);
  const duplicates = new WeakSet<TicketingEvent>();
  let stopping = false;

  const connection = new BrokerConnection(
    brokerConfig({
      url: config.RABBITMQ_URL,
      prefetch: config.CONSUMER_PREFETCH,
      maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
      namespace: overrides.brokerNamespace,
      declareTopology: config.RABBITMQ_DECLARE_TOPOLOGY,
    }),
    logger,
  );
  let subscription: Awaited<ReturnType<typeof consumeEvents>> | undefined;
  const queues = queueDepthProbe(connection, [EVENT_SERVICE_QUEUE, EVENT_SERVICE_DEAD_LETTER_QUEUE], logger);
  const metrics = consumerMetrics(registry, {
    subscribed: () => subscription !== undefined && !stopping && connection.isConnected(),
    queues,
  });
  const publishFailures = seatChangePublishFailures(registry);
  // Seats sold, released and refunded here (and by the lapsed-hold check) reach the live seat maps too.
  const changeStream = openSeatChangeStream({
    url: config.REDIS_URL,
    keyPrefix: config.SEAT_MAP_STREAM_KEY_PREFIX,
    retained: config.SEAT_MAP_STREAM_RETAINED_CHANGES,
    logger,
    onPublishFailure: () => publishFailures.inc(),
  });
  const inventory = publishingSeatInventory(seatInventoryRepository(db), changeStream.feed);
  const retention = scheduleRetention(inventory, config.PROCESSED_MESSAGES_RETENTION_HOURS, logger);
  const lapsedHolds = scheduleLapsedHoldCheck({ inventory, config, logger, registry });
  const handler = bookingEventHandler({
    inventory,
    logger,
    duplicates,
    isStopping: () => stopping,
    onBatch: (messages) => metrics.batchMessages.observe(messages),
  });
  const onOutcome = (routingKey: string, reported: ConsumeOutcome, event?: TicketingEvent) => {
    const outcome: Outcome = event && reported === 'applied' && duplicates.has(event) ? 'duplicate' : reported;
    const label = routingKeyLabel(routingKey, event);
    metrics.consumed.inc({ routing_key: label, outcome });
    if (outcome === 'dead_lettered') metrics.deadLettered.inc({ routing_key: label });
    if (outcome === 'applied' && event) {
      metrics.lag.observe({ routing_key: label }, Math.max(0, (Date.now() - Date.parse(event.occurred_at)) / 1000));
    }
  };

  connection.onConnect(async (broker) => {
    try {
      subscription = await consumeEvents(broker, handler, {
        logger,
        maxAttempts: config.CONSUMER_MAX_ATTEMPTS,
        retryDelayMs: config.CONSUMER_RETRY_DELAY_MS,
        maxBatchSize: config.CONSUMER_BATCH_SIZE,
        onOutcome,
      });
      logger.info('Consuming booking events');
    } catch (error) {
      logger.error({ err: error }, 'Could not subscribe to the event service queue');
    }
  });
  connection.connect().catch((error: Error) => logger.warn({ err: error }, 'Stopped connecting to RabbitMQ'));

  const app = createHttpApp({
    service: 'event-consumer',
    logger,
    registry,
    // Unlike the APIs, the consumer needs the broker to do anything at all: without it, it is not ready (it
    // serves no Service traffic, so "not ready" only reports; it is never taken out of anything it needs).
    readiness: { database: () => pingDatabase(db), broker: () => connection.check() },
  });
  let server;
  try {
    server = await startHttpServer(app, config.METRICS_PORT, config.HOST);
  } catch (error) {
    stopping = true;
    await retention.stop();
    await lapsedHolds.stop();
    await queues.close();
    await connection.stop();
    await changeStream.close();
    await db.destroy();
    throw error;
  }
  const running = server;
  logger.info({ url: running.url }, 'Event consumer started; health and metrics server listening');

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    logger.info('Event consumer stopping');
    try {
      // Cancelling waits for the messages in hand to be acknowledged, so none is half applied.
      await subscription?.cancel();
    } catch (error) {
      logger.warn({ err: error }, 'Cancelling the subscription failed');
    }
    await retention.stop();
    await lapsedHolds.stop();
    await queues.close();
    await connection.stop();
    await running.close(config.SHUTDOWN_TIMEOUT_MS);
    await changeStream.close();
    await db.destroy();
    registry.clear();
  };
  return {
    url: running.url,
    port: running.port,
    config,
    checkLapsedHolds: lapsedHolds.runNow,
    stop: () => (stopped ??= stop()),
  };
}
