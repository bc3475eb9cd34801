import {
  BrokerConnection,
  brokerConfig,
  createDatabase,
  createHttpApp,
  createLogger,
  createMetricsRegistry,
  INTERNAL_TOKEN_HEADER,
  INTERNAL_TOKEN_SCHEME,
  pingDatabase,
  publishEvent,
  startHttpServer,
  type Knex,
} from '@ticketing/platform';
import { Redis } from 'ioredis';
import { idempotencyLeaseMs, pendingHoldGraceSeconds, resolveBookingConfig, type BookingConfig } from '../config';
import { createBookingStore } from '../data-access/booking-store';
import { createEventServiceClient } from '../data-access/event-service-client';
import { createSeatLocker } from '../data-access/seat-locks';
import { expireReservations } from '../domain/expiry';
import { OutboxRelay } from '../domain/outbox-relay';
import { createMockPaymentProvider } from '../domain/payment-provider';
import type { BookingDeps } from '../domain/ports';
import { BEARER_SCHEME, USER_ID_SCHEME, callerGuard, securitySchemes } from './http/caller-identity';
import { internalModule } from './http/internal-routes';
import { priceTierModule } from './http/price-tier-routes';
import { reservationRoutes } from './http/reservation-routes';
import { ticketRoutes } from './http/ticket-routes';
import { createBookingMetrics } from './metrics';

export interface RunningBookingApi {
  url: string;
  port: number;
  config: BookingConfig;
  db: Knex;
  relay: OutboxRelay;
  stop(): Promise<void>;
}

export type BookingApiOverrides = Partial<BookingConfig> & {
  /** RabbitMQ name prefix (tests); production leaves it unset so names are the contract's. */
  brokerNamespace?: string;
};

/**
 * Publications awaiting their confirm at once: Rascal holds a pooled channel per message until the broker
 * confirms it (5 by default), which would cap the relay's batch at 5 messages in flight.
 */
const OUTBOX_CONFIRM_CHANNELS = 64;

type BrokerTopology = ReturnType<typeof brokerConfig>;

function withConfirmChannels(topology: BrokerTopology, max: number): BrokerTopology {
  for (const vhost of Object.values(topology.vhosts ?? {})) {
    vhost.publicationChannelPools = {
      ...vhost.publicationChannelPools,
      confirmPool: { ...vhost.publicationChannelPools?.confirmPool, max },
    };
  }
  return topology;
}

/**
 * Composes the booking API process: config, Postgres, Redis (seat locks), RabbitMQ (outbox relay), the
 * event-service client, the HTTP app, and — unless EXPIRY_SWEEP_INTERVAL_SECONDS is 0 — the expiry timer.
 * Starts even while RabbitMQ is down (rows wait in the outbox; /ready says so). stop() ends all of it.
 */
export async function startBookingApi(overrides: BookingApiOverrides = {}): Promise<RunningBookingApi> {
  const { brokerNamespace, ...configOverrides } = overrides;
  const config: BookingConfig = resolveBookingConfig(configOverrides);
  const logger = createLogger('booking-service', config.LOG_LEVEL);
  const registry = createMetricsRegistry('booking-service');

  const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX });
  const store = createBookingStore(db);
  const redis = new Redis(config.REDIS_URL, {
    // Fail a lock attempt quickly while Redis is unreachable instead of queueing it.
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    lazyConnect: true,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'Redis error'));
  redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'Redis not reachable yet'));
  const broker = new BrokerConnection(
    withConfirmChannels(brokerConfig({ url: config.RABBITMQ_URL, namespace: brokerNamespace }), OUTBOX_CONFIRM_CHANNELS),
    logger,
  );
  const eventService = createEventServiceClient({
    baseUrl: config.EVENT_SERVICE_URL,
    timeoutMs: config.EVENT_SERVICE_TIMEOUT_MS,
    internalToken: config.INTERNAL_API_TOKEN,
    maxSockets: Math.max(16, config.DB_POOL_MAX * 4),
  });

  const metrics = createBookingMetrics(registry, () => store.outbox.backlog(), logger);
  const relay = new OutboxRelay({
    store,
    logger,
    metrics,
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    batchSize: config.OUTBOX_BATCH_SIZE,
    publisher: {
      publish: (event) => publishEvent(broker, event),
      isConnected: () => broker.isConnected(),
    },
  });

  const deps: BookingDeps = {
    store,
    eventService,
    seatLocker: createSeatLocker(redis, (error) => logger.warn({ err: error }, 'Seat lock error')),
    payments: createMockPaymentProvider(config.PAYMENT_SUCCESS_RATE),
    relay,
    logger,
    metrics,
    settings: {
      reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
      lockTtlMs: config.LOCK_TTL_MS,
      ticketSigningSecret: config.TICKET_SIGNING_SECRET,
      idempotencyLeaseMs: idempotencyLeaseMs(config),
    },
  };

  const securityScheme = config.AUTH_JWT_SECRET ? BEARER_SCHEME : USER_ID_SCHEME;
  const app = createHttpApp({
    service: 'booking-service',
    logger,
    registry,
    modules: [
      priceTierModule(deps),
      {
        prefix: '/api/v1',
        routes: [...reservationRoutes(deps, config.MAX_SEATS_PER_RESERVATION), ...ticketRoutes(deps)],
        guard: callerGuard(config.AUTH_JWT_SECRET),
        security: [securityScheme],
      },
      internalModule(deps, config.INTERNAL_API_TOKEN),
    ],
    readiness: {
      database: () => pingDatabase(db),
      redis: () => redis.ping(),
      rabbitmq: () => broker.check(),
    },
    openapi: {
      title: 'Booking Service',
      version: '1.0.0',
      description:
        'Price tiers, seat holds (reservations), payment confirmation, tickets with QR codes, cancellation and refunds. ' +
        (config.AUTH_JWT_SECRET
          ? 'Name yourself with a Bearer JWT (Authorize button).'
          : 'Name yourself with the X-User-ID header (Authorize button).'),
      securitySchemes: {
        [securityScheme]: securitySchemes[securityScheme],
        [INTERNAL_TOKEN_SCHEME]: { type: 'apiKey', in: 'header', name: INTERNAL_TOKEN_HEADER },
      },
    },
  });

  broker.onConnect(async (connected) => {
    // Rascal reconnects by itself after a lost connection; publish what waited as soon as it is back.
    connected.on('connect', () => relay.kick());
    relay.kick();
  });
  broker.connect().catch((error: unknown) => logger.debug({ err: error }, 'Broker connection attempts stopped'));

  let server;
  try {
    server = await startHttpServer(app, config.PORT, config.HOST);
  } catch (error) {
    await Promise.allSettled([broker.stop(), redis.quit(), db.destroy()]);
    eventService.close();
    throw error;
  }
  relay.start();

  let sweeping: Promise<unknown> | undefined;
  const sweepTimer =
    config.EXPIRY_SWEEP_INTERVAL_SECONDS > 0
      ? setInterval(() => {
          if (sweeping) return;
          sweeping = expireReservations(
            { store, logger, relay, metrics },
            {
              batchSize: config.EXPIRY_BATCH_SIZE,
              pendingHoldGraceSeconds: pendingHoldGraceSeconds(config),
              outboxRetentionSeconds: config.OUTBOX_RETENTION_HOURS * 3600,
            },
          )
            .catch((error: unknown) => logger.error({ err: error }, 'Expiry sweep failed'))
            .finally(() => (sweeping = undefined));
        }, config.EXPIRY_SWEEP_INTERVAL_SECONDS * 1000)
      : undefined;
  sweepTimer?.unref();

  logger.info({ url: server.url }, 'Booking API listening');
  const running = server;
  let stopping: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    config,
    db,
    relay,
    stop() {
      stopping ??= (async () => {
        clearInterval(sweepTimer);
        await running.close(config.SHUTDOWN_TIMEOUT_MS);
        await sweeping;
        await relay.stop();
        await Promise.allSettled([broker.stop(), redis.quit()]);
        eventService.close();
        await db.destroy();
      })();
      return stopping;
    },
  };
}
