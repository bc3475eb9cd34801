import {
  authModeOf,
  createHttpApp,
  createIdentity,
  identitySecurityScheme,
  createLogger,
  createMetricsRegistry,
  httpEdgeOptions,
  INTERNAL_TOKEN_HEADER,
  INTERNAL_TOKEN_SCHEME,
  pingDatabase,
  startHttpServer,
  stopInOrder,
  warnIfUnverified,
  type ApiModule,
  type Knex,
  type Logger,
} from '@ticketing/platform';
import type Koa from 'koa';
import type { Registry } from 'prom-client';
import { resolveEventConfig, type EventConfig, type EventOverrides } from '../config';
import { catalogRepository } from '../data-access/catalog-repository';
import { openEventDatabase } from '../data-access/database';
import { publishingSeatInventory } from '../data-access/publishing-seat-inventory';
import { compareEntryIds, entryIdOfVersion, versionOfEntryId } from '../data-access/seat-change-stream';
import { seatInventoryRepository } from '../data-access/seat-inventory-repository';
import { createSeatMapCache } from './http/seat-map-cache';
import { catalogModule } from './http/catalog-routes';
import { internalInventoryModule } from './http/internal-inventory-routes';
import { internalOwnershipModule } from './http/internal-ownership-routes';
import { createLiveSeatMap, type LiveSeatMap } from '../domain/live-seat-map';
import { noSeatChangeFeed, type SeatChangeFeed } from '../domain/seat-changes';
import { seatMapStreamRoutes } from './http/seat-map-stream';
import { liveSeatMapMetrics, openCountedSeatChangeStream } from './seat-map-stream-metrics';

export interface EventApi {
  url: string;
  port: number;
  config: EventConfig;
  db: Knex;
  /** Stops accepting connections, lets in-flight requests finish, then closes the pool. */
  stop(): Promise<void>;
}

/** The live seat map's two ends: where this process's writes are announced, and its SSE subscribers. */
export interface LiveSeatMapParts {
  feed: SeatChangeFeed;
  live: LiveSeatMap;
}

export function eventApiModules(db: Knex, config: EventConfig, registry: Registry, liveParts?: LiveSeatMapParts): ApiModule[] {
  const identity = createIdentity(config, { registry });
  const catalog = catalogRepository(db);
  const seatMaps = createSeatMapCache(catalog.streamSeatMap, { ttlMs: config.SEAT_MAP_CACHE_MS });
  const catalogApi = catalogModule(db, { seatMaps, identity });
  if (liveParts) catalogApi.routes.push(...seatMapStreamRoutes(liveParts.live));
  const inventory = publishingSeatInventory(seatInventoryRepository(db), liveParts?.feed ?? noSeatChangeFeed);
  return [
    catalogApi,
    // This instance's own seat changes show in its next map at once (issue 11); others' within the TTL.
    internalInventoryModule(inventory, config.INTERNAL_API_TOKEN, (sessionId) => seatMaps.invalidate(sessionId)),
    internalOwnershipModule(catalog, config.INTERNAL_API_TOKEN),
  ];
}

/** Opens Redis for the live seat map: publishing this process's changes and (API) fanning changes out. */
export function openLiveSeatMap(db: Knex, config: EventConfig, logger: Logger, registry: Registry) {
  const stream = openCountedSeatChangeStream(config, logger, registry);
  const live: LiveSeatMap = createLiveSeatMap({
    streams: stream,
    ids: { compare: compareEntryIds, version: versionOfEntryId, fromVersion: entryIdOfVersion },
    render: catalogRepository(db).streamSeatMap,
    settings: {
      maxSubscribers: config.SEAT_MAP_STREAM_MAX_SUBSCRIBERS,
      bufferBytes: config.SEAT_MAP_STREAM_BUFFER_BYTES,
      heartbeatMs: config.SEAT_MAP_STREAM_HEARTBEAT_SECONDS * 1000,
    },
    observer: liveSeatMapMetrics(registry, () => live.subscribers, logger),
  });
  const parts = { feed: stream.feed, live };
  return {
    parts,
    /** Ends every live stream (clients reconnect to another replica). */
    endStreams: () => parts.live.close(),
    async close() {
      await parts.live.close();
      await stream.close();
    },
  };
}

/** In jwt mode catalog writes take a bearer token: Swagger UI's Authorize button asks for it. */
function bearerScheme(config: EventConfig): Record<string, Record<string, unknown>> {
  if (authModeOf(config) !== 'jwt') return {};
  const { name, scheme } = identitySecurityScheme('jwt');
  return { [name]: scheme };
}

export function createEventApp(deps: {
  db: Knex;
  config: EventConfig;
  logger: Logger;
  registry: Registry;
  live?: LiveSeatMapParts;
}): Koa {
  return createHttpApp({
    service: 'event-service',
    logger: deps.logger,
    registry: deps.registry,
    modules: eventApiModules(deps.db, deps.config, deps.registry, deps.live),
    readiness: { database: () => pingDatabase(deps.db) },
    edge: httpEdgeOptions(deps.config),
    openapi: {
      title: 'Event Service',
      version: '1.0.0',
      description:
        'Catalog (organizers, locations, halls, seats, events, sessions) and the seat inventory of every session. ' +
        '`/api/v1` reads are public; with verified identity (AUTH_MODE=jwt, always in production) writes need a ' +
        'Bearer JWT with the organizer role and membership of the owning organizer, or the admin role. ' +
        '`/api/internal` is for the booking service and needs the X-Internal-Token header ' +
        'when the service runs with INTERNAL_API_TOKEN.',
      securitySchemes: {
        [INTERNAL_TOKEN_SCHEME]: { type: 'apiKey', in: 'header', name: INTERNAL_TOKEN_HEADER },
        ...bearerScheme(deps.config),
      },
    },
  });
}

/**
 * Starts the event service's HTTP API (port PORT, default 8000). `brokerNamespace` is accepted so the same
 * overrides can be passed to startEventConsumer; the API itself neither publishes nor consumes messages.
 */
export async function startEventApi(overrides: EventOverrides = {}): Promise<EventApi> {
  const config = resolveEventConfig(overrides);
  const logger = createLogger('event-service', config.LOG_LEVEL);
  const registry = createMetricsRegistry('event-service');
  warnIfUnverified(createIdentity(config), logger);
  const db = openEventDatabase(config.DATABASE_URL, config.DB_POOL_MAX);
  const live = openLiveSeatMap(db, config, logger, registry);
  let server;
  try {
    server = await startHttpServer(createEventApp({ db, config, logger, registry, live: live.parts }), config.PORT, config.HOST);
  } catch (error) {
    await live.close();
    await db.destroy();
    throw error;
  }
  const running = server;
  logger.info({ url: running.url, docs: `${running.url}/docs` }, 'Event API listening');

  const stop = stopInOrder([
    () => logger.info('Event API stopping'),
    async () => {
      // Open streams would hold the server open: end them first (clients reconnect to another replica).
      const closingServer = running.close(config.SHUTDOWN_TIMEOUT_MS);
      try {
        await live.endStreams();
      } finally {
        await closingServer;
      }
    },
    () => live.close(),
    () => db.destroy(),
    () => registry.clear(),
  ]);
  return {
    url: running.url,
    port: running.port,
    config,
    db,
    stop,
  };
}
