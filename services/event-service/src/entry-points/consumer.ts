import {
  BrokerConnection,
  EVENT_SERVICE_DEAD_LETTER_QUEUE,
  EVENT_SERVICE_QUEUE,
  brokerConfig,
  consumeEvents,
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  pingDatabase,
  queueDepthProbe,
  startHttpServer,
  stopInOrder,
  type ConsumeOutcome,
  type TicketingEvent,
} from '@ticketing/platform';
import { resolveEventConfig, type EventConfig, type EventOverrides } from '../config';
import { openEventDatabase } from '../data-access/database';
import { publishingSeatInventory } from '../data-access/publishing-seat-inventory';
import { seatInventoryRepository } from '../data-access/seat-inventory-repository';
import { bookingMessageHandler } from './booking-message-handler';
import { consumerMetrics, routingKeyLabel, type Outcome } from './consumer-metrics';
import { scheduleLapsedHoldCheck } from './lapsed-hold-job';
import { scheduleMessageRetention } from './message-retention-job';
import { openCountedSeatChangeStream } from './seat-map-stream-metrics';

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
  // Seats sold, released and refunded here (and by the lapsed-hold check) reach the live seat maps too.
  const changeStream = openCountedSeatChangeStream(config, logger, registry);
  const inventory = publishingSeatInventory(seatInventoryRepository(db), changeStream.feed);
  const retention = scheduleMessageRetention(inventory, config.PROCESSED_MESSAGES_RETENTION_HOURS, logger);
  const lapsedHolds = scheduleLapsedHoldCheck({ inventory, config, logger, registry });
  const handler = bookingMessageHandler({
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
  const stopJobsAndBroker = [() => retention.stop(), () => lapsedHolds.stop(), () => queues.close(), () => connection.stop()];
  let server;
  try {
    server = await startHttpServer(app, config.METRICS_PORT, config.HOST);
  } catch (error) {
    stopping = true;
    await stopInOrder([...stopJobsAndBroker, () => changeStream.close(), () => db.destroy()])();
    throw error;
  }
  const running = server;
  logger.info({ url: running.url }, 'Event consumer started; health and metrics server listening');

  const stop = stopInOrder([
    () => {
      stopping = true;
      logger.info('Event consumer stopping');
    },
    async () => {
      try {
        // Cancelling waits for the messages in hand to be acknowledged, so none is half applied.
        await subscription?.cancel();
      } catch (error) {
        logger.warn({ err: error }, 'Cancelling the subscription failed');
      }
    },
    ...stopJobsAndBroker,
    () => running.close(config.SHUTDOWN_TIMEOUT_MS),
    () => changeStream.close(),
    () => db.destroy(),
    () => registry.clear(),
  ]);
  return {
    url: running.url,
    port: running.port,
    config,
    checkLapsedHolds: lapsedHolds.runNow,
    stop,
  };
}
