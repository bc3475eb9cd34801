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
import { seatInventoryRepository } from '../data-access/seat-inventory-repository';
import { createSeatMapCache } from './http/seat-map-cache';
import { catalogModule } from './http/catalog-routes';
import { internalInventoryModule } from './http/internal-inventory-routes';
import { internalOwnershipModule } from './http/internal-ownership-routes';

export interface EventApi {
  url: string;
  port: number;
  config: EventConfig;
  db: Knex;
  /** Stops accepting connections, lets in-flight requests finish, then closes the pool. */
  stop(): Promise<void>;
}

export function eventApiModules(db: Knex, config: EventConfig): ApiModule[] {
  const identity = createIdentity(config);
  const catalog = catalogRepository(db);
  const seatMaps = createSeatMapCache(catalog.streamSeatMap, { ttlMs: config.SEAT_MAP_CACHE_MS });
  return [
    catalogModule(db, { seatMaps, identity }),
    // This instance's own seat changes show in its next map at once (issue 11); others' within the TTL.
    internalInventoryModule(seatInventoryRepository(db), config.INTERNAL_API_TOKEN, (sessionId) =>
      seatMaps.invalidate(sessionId),
    ),
    internalOwnershipModule(catalog, config.INTERNAL_API_TOKEN),
  ];
}

/** In jwt mode catalog writes take a bearer token: Swagger UI's Authorize button asks for it. */
function bearerScheme(config: EventConfig): Record<string, Record<string, unknown>> {
  if (authModeOf(config) !== 'jwt') return {};
  const { name, scheme } = identitySecurityScheme('jwt');
  return { [name]: scheme };
}

export function createEventApp(deps: { db: Knex; config: EventConfig; logger: Logger; registry: Registry }): Koa {
  return createHttpApp({
    service: 'event-service',
    logger: deps.logger,
    registry: deps.registry,
    modules: eventApiModules(deps.db, deps.config),
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
  let server;
  try {
    server = await startHttpServer(createEventApp({ db, config, logger, registry }), config.PORT, config.HOST);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const running = server;
  logger.info({ url: running.url, docs: `${running.url}/docs` }, 'Event API listening');

  const stop = stopInOrder([
    () => logger.info('Event API stopping'),
    () => running.close(config.SHUTDOWN_TIMEOUT_MS),
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
