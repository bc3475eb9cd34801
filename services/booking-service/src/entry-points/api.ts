import {
  BrokerConnection,
  brokerConfig,
  createDatabase,
  createHttpApp,
  createIdentity,
  identitySecurityScheme,
  createLogger,
  createMetricsRegistry,
  httpEdgeOptions,
  INTERNAL_TOKEN_HEADER,
  INTERNAL_TOKEN_SCHEME,
  pingDatabase,
  publishEvent,
  startHttpServer,
  startPeriodicJob,
  stopInOrder,
  warnIfUnverified,
  type Knex,
} from '@ticketing/platform';
import { Redis } from 'ioredis';
import { idempotencyLeaseMs, pendingHoldGraceSeconds, resolveBookingConfig, type BookingConfig } from '../config';
import { createBookingStore } from '../data-access/booking-store';
import { withCachedPriceTiers } from '../data-access/cached-price-tiers';
import { redisPriceTierChanges, type PriceTierChanges } from '../data-access/price-tier-changes';
import { withBatchedHolds } from '../data-access/batched-holds';
import { withBatchedPendingHolds } from '../data-access/batched-pending-holds';
import { withBatchedReservationWrites } from '../data-access/batched-reservation-writes';
import { createEventServiceClient } from '../data-access/event-service-client';
import { createSeatHolds } from '../data-access/event-service-holds';
import { createSeatLocker } from '../data-access/seat-locks';
import { createSeatMapCounts } from '../data-access/seat-map-counts';
import { createWaitingRoomStore } from '../data-access/waiting-room-store';
import { AdmissionTicker } from '../domain/admission-tick';
import type { WaitingRoomDeps } from '../domain/waiting-room';
import { expireReservations } from '../domain/expiry';
import { OutboxRelay } from './outbox-relay';
import { createMockPaymentProvider, meteredPaymentProvider, type MockPaymentProvider } from '../domain/payment-provider';
import { recoverPayments } from '../domain/payments';
import type { BookingDeps } from '../domain/ports';
import { createTicketKeyRing } from '../domain/ticket-signing';
import { callerGuard } from './http/caller-identity';
import { internalModule } from './http/internal-routes';
import { priceTierModule } from './http/price-tier-routes';
import { createRateLimits } from './http/rate-limits';
import { reservationRoutes } from './http/reservation-routes';
import { checkInRoutes, ticketKeysModule } from './http/check-in-routes';
import { ticketRoutes } from './http/ticket-routes';
import { createBookingMetrics, registerBrokerGauge } from './metrics';
import { startAdmissionTickerJob, type AdmissionTickerJob } from './admission-ticker-job';
import { QueueStreams } from './http/queue-streams';
import { queueRoutes, waitingRoomModule } from './http/waiting-room-routes';
import { createWaitingRoomMetrics } from './waiting-room-metrics';

export interface RunningBookingApi {
  url: string;
  port: number;
  config: BookingConfig;
  db: Knex;
  relay: OutboxRelay;
  /** The (mock) payment provider, whose ledger tests count. */
  payments: MockPaymentProvider;
  /** The waiting-room ticker of this process (undefined when WAITING_ROOM_TICK_MS is 0). */
  admissionTicker?: AdmissionTickerJob;
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

/** QUIT when connected; while Redis is unreachable QUIT fails at once, and disconnect() stops the reconnect loop. */
async function closeRedis(redis: Redis): Promise<void> {
  await redis.quit().catch(() => undefined);
  redis.disconnect();
}

/**
 * Composes the booking API process: config, Postgres, Redis (seat locks), RabbitMQ (outbox relay), the
 * event-service client, the HTTP app, and — unless EXPIRY_SWEEP_INTERVAL_SECONDS is 0 — the expiry timer.
 * Starts and stays ready while RabbitMQ is down (rows wait in the outbox; /ready's body reports the broker). stop() ends all of it.
 */
export async function startBookingApi(overrides: BookingApiOverrides = {}): Promise<RunningBookingApi> {
  const { brokerNamespace, ...configOverrides } = overrides;
  const config: BookingConfig = resolveBookingConfig(configOverrides);
  const logger = createLogger('booking-service', config.LOG_LEVEL);
  const registry = createMetricsRegistry('booking-service');

  const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DB_POOL_MAX });
  const redis = new Redis(config.REDIS_URL, {
    // While Redis is unreachable a lock attempt fails at once (503 LOCK_SERVICE_UNAVAILABLE) instead of
    // waiting in ioredis' offline queue for a reconnect; a Redis that accepts but does not answer is cut off
    // by the command timeout.
    enableOfflineQueue: false,
    commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
    lazyConnect: true,
    // Commands that concurrent requests issue in the same tick (rate-limit counts, Redlock's acquire and
    // release scripts) go out in one write and come back in one read; each keeps its own reply and error, so
    // the lock's semantics and the 409 SEAT_LOCKED fast-fail are unchanged.
    enableAutoPipelining: true,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'Redis error'));
  // Without an offline queue, commands sent before the connection is ready fail: wait for it (bounded by
  // connectTimeout; refused is immediate) so the first requests do not see a 503.
  await redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'Redis not reachable yet'));
  const priceTierChanges: PriceTierChanges | undefined =
    config.PRICE_TIER_CACHE_SECONDS > 0
      ? redisPriceTierChanges(
          redis,
          redis.duplicate({ enableOfflineQueue: true, lazyConnect: false, commandTimeout: undefined }),
          (error) => logger.warn({ err: error }, 'Price tier change notices'),
        )
      : undefined;
  const store = priceTierChanges
    ? withCachedPriceTiers(createBookingStore(db), priceTierChanges, {
        ttlMs: config.PRICE_TIER_CACHE_SECONDS * 1000,
        onAnnounceError: (error) => logger.warn({ err: error }, 'Price tier change not announced; other replicas see it within PRICE_TIER_CACHE_SECONDS'),
      })
    : createBookingStore(db);
  const broker = new BrokerConnection(
    withConfirmChannels(brokerConfig({ url: config.RABBITMQ_URL, namespace: brokerNamespace, declareTopology: config.RABBITMQ_DECLARE_TOPOLOGY }), OUTBOX_CONFIRM_CHANNELS),
    logger,
  );
  const eventServiceClient = createEventServiceClient({
    baseUrl: config.EVENT_SERVICE_URL,
    timeoutMs: config.EVENT_SERVICE_TIMEOUT_MS,
    internalToken: config.INTERNAL_API_TOKEN,
    maxSockets: Math.max(16, config.DB_POOL_MAX * 4),
  });
  const eventService =
    config.HOLD_BATCH_MAX_SIZE > 1
      ? withBatchedHolds(eventServiceClient, {
          maxBatchSize: config.HOLD_BATCH_MAX_SIZE,
          maxInFlight: config.HOLD_BATCH_MAX_IN_FLIGHT,
          registry,
        })
      : eventServiceClient;

  const metrics = createBookingMetrics(registry, () => store.outbox.backlog(), logger);
  registerBrokerGauge(registry, () => broker.isConnected());
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

  const payments = createMockPaymentProvider(config.PAYMENT_SUCCESS_RATE);
  const ticketKeys = createTicketKeyRing({ keys: config.TICKET_SIGNING_KEYS, activeKid: config.TICKET_SIGNING_ACTIVE_KID });
  if (ticketKeys.development) {
    logger.warn('Development ticket signing key: anyone can derive it and forge ticket codes; set TICKET_SIGNING_KEYS outside development');
  }
  const batching = { maxBatchSize: config.HOLD_BATCH_MAX_SIZE, maxInFlight: config.HOLD_BATCH_MAX_IN_FLIGHT, registry };
  // The hot path's pending-hold journal and reservation write batched across concurrent requests (the relay, sweep and tests use `store`).
  const bookingStore =
    config.HOLD_BATCH_MAX_SIZE > 1 ? withBatchedPendingHolds(db, withBatchedReservationWrites(db, store, batching), batching) : store;
  const deps: BookingDeps = {
    store: bookingStore,
    eventService,
    seatHolds: createSeatHolds(eventService, bookingStore.pendingHolds, logger),
    seatLocker: createSeatLocker(redis, (error) => logger.warn({ err: error }, 'Seat lock error')),
    payments: meteredPaymentProvider(payments, (operation, result) => metrics.paymentOperation(operation, result)),
    relay,
    logger,
    metrics,
    settings: {
      reservationTtlSeconds: config.RESERVATION_TTL_SECONDS,
      lockTtlMs: config.LOCK_TTL_MS,
      ticketSigningSecret: config.TICKET_SIGNING_SECRET,
      ticketKeys,
      ticketCodeValidHoursAfterStart: config.TICKET_CODE_VALID_HOURS_AFTER_START,
      idempotencyLeaseMs: idempotencyLeaseMs(config),
      maxSeatsPerUserPerSession: config.MAX_SEATS_PER_USER_PER_SESSION,
      refundCutoffMinutes: config.REFUND_CUTOFF_MINUTES,
    },
  };

  const waitingRoomStore = createWaitingRoomStore(redis, config.WAITING_ROOM_REDIS_PREFIX);
  const waitingRoom: WaitingRoomDeps = { store: waitingRoomStore, eventService, admissionSecret: config.QUEUE_ADMISSION_SECRET };
  // Subscribed connections take no other commands; its offline queue keeps the subscription until Redis is back.
  const queueStreams = new QueueStreams(
    waitingRoom,
    redis.duplicate({ enableOfflineQueue: true, lazyConnect: false, commandTimeout: undefined }),
    waitingRoomStore.updatesChannel,
    logger,
  );
  queueStreams.start();
  const waitingRoomMetrics = createWaitingRoomMetrics(registry);

  const identity = createIdentity(config, { registry });
  warnIfUnverified(identity, logger);
  const security = identitySecurityScheme(identity.mode);
  const app = createHttpApp({
    service: 'booking-service',
    logger,
    registry,
    modules: [
      priceTierModule(deps, identity),
      waitingRoomModule(waitingRoom, identity),
      ticketKeysModule(deps),
      {
        prefix: '/api/v1',
        routes: [
          ...reservationRoutes(deps, config.MAX_SEATS_PER_RESERVATION, createRateLimits(redis, registry, logger, config), waitingRoom),
          ...queueRoutes(waitingRoom, queueStreams),
          ...ticketRoutes(deps),
          ...checkInRoutes(deps, identity),
        ],
        guard: callerGuard(identity),
        security: [security.name],
      },
      internalModule(deps, config.INTERNAL_API_TOKEN),
    ],
    // Serving requests needs Postgres and Redis. The broker does not: confirms, cancels and refunds wait in the
    // outbox while it is down, so /ready only reports it (and booking_broker_connected shows it).
    readiness: {
      database: () => pingDatabase(db),
      redis: () => redis.ping(),
    },
    reportedDependencies: {
      rabbitmq: () => broker.check(),
    },
    edge: httpEdgeOptions(config),
    openapi: {
      title: 'Booking Service',
      version: '1.0.0',
      description:
        'Price tiers, seat holds (reservations), payment confirmation, tickets with signed QR codes, cancellation, refunds ' +
        'and check-in at the door. ' +
        (identity.mode === 'jwt'
          ? 'Name yourself with a Bearer JWT (Authorize button); price tier writes need the organizer or admin role.'
          : 'Name yourself with the X-User-ID header (Authorize button).'),
      securitySchemes: {
        [security.name]: security.scheme,
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

  const closeConnections = [() => Promise.allSettled([broker.stop(), closeRedis(redis)]), () => eventService.close(), () => db.destroy()];
  let server;
  try {
    server = await startHttpServer(app, config.PORT, config.HOST);
  } catch (error) {
    await stopInOrder([() => queueStreams.close(), async () => priceTierChanges?.close(), ...closeConnections])();
    throw error;
  }
  relay.start();
  const admissionTicker =
    config.WAITING_ROOM_TICK_MS > 0
      ? startAdmissionTickerJob({
          store: waitingRoomStore,
          ticker: new AdmissionTicker(
            {
              store: waitingRoomStore,
              seatCounts: createSeatMapCounts({ baseUrl: config.EVENT_SERVICE_URL, timeoutMs: config.EVENT_SERVICE_TIMEOUT_MS }),
              metrics: waitingRoomMetrics,
              logger,
            },
            { soldOutCheckMs: config.WAITING_ROOM_SOLD_OUT_CHECK_MS },
          ),
          metrics: waitingRoomMetrics,
          logger,
          intervalMs: config.WAITING_ROOM_TICK_MS,
        })
      : undefined;

  const sweep = startPeriodicJob({
    name: 'Expiry sweep',
    intervalMs: config.EXPIRY_SWEEP_INTERVAL_SECONDS * 1000,
    logger,
    run: async () => {
      await expireReservations(
        { store, logger, relay, metrics },
        {
          batchSize: config.EXPIRY_BATCH_SIZE,
          pendingHoldGraceSeconds: pendingHoldGraceSeconds(config),
          outboxRetentionSeconds: config.OUTBOX_RETENTION_HOURS * 3600,
        },
      );
    },
  });
  // In the process that owns the provider client (not the CronJob): captures, voids and refunds a crash left owing.
  const recovery = startPeriodicJob({
    name: 'Payment recovery',
    intervalMs: config.PAYMENT_RECOVERY_INTERVAL_SECONDS * 1000,
    logger,
    run: async () => {
      await recoverPayments(deps, { graceSeconds: pendingHoldGraceSeconds(config), batchSize: config.EXPIRY_BATCH_SIZE });
    },
  });

  logger.info({ url: server.url }, 'Booking API listening');
  const running = server;
  return {
    url: running.url,
    port: running.port,
    config,
    db,
    relay,
    payments,
    admissionTicker,
    stop: stopInOrder([
      async () => {
        await admissionTicker?.stop();
      },
      () => queueStreams.close(),
      async () => priceTierChanges?.close(),
      async () => {
        const jobsStopped = Promise.all([sweep.stop(), recovery.stop()]);
        try {
          await running.close(config.SHUTDOWN_TIMEOUT_MS);
        } finally {
          await jobsStopped;
        }
      },
      () => relay.stop(),
      ...closeConnections,
    ]),
  };
}
