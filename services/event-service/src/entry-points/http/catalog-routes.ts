import {
  identitySecurityScheme,
  requireCallerForWrites,
  type ApiModule,
  type Identity,
  type Knex,
} from '@ticketing/platform';
import { catalogRepository } from '../../data-access/catalog-repository';
import type { SeatMapCache } from './seat-map-cache';
import { eventRoutes } from './event-routes';
import { hallRoutes } from './hall-routes';
import { locationRoutes } from './location-routes';
import { organizerRoutes } from './organizer-routes';
import { seatRoutes } from './seat-routes';
import { sessionRoutes } from './session-routes';

/** The public catalog API, /api/v1: reads are public; writes need a verified organizer or admin in jwt mode. */
export function catalogModule(db: Knex, options: { seatMaps: SeatMapCache; identity: Identity }): ApiModule {
  const catalog = catalogRepository(db);
  return {
    prefix: '/api/v1',
    guard: requireCallerForWrites(options.identity),
    ...(options.identity.mode === 'jwt' ? { writeSecurity: [identitySecurityScheme('jwt').name] } : {}),
    routes: [
      ...organizerRoutes(catalog),
      ...locationRoutes(catalog),
      ...hallRoutes(catalog),
      ...seatRoutes(catalog),
      ...eventRoutes(catalog),
      ...sessionRoutes(catalog, options.seatMaps),
    ],
  };
}
