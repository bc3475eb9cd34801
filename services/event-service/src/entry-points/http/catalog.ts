import {
  identitySecurityScheme,
  requireCallerForWrites,
  type ApiModule,
  type Identity,
  type Knex,
} from '@ticketing/platform';
import { catalogRepository } from '../../data-access/catalog-repository';
import type { SeatMapCache } from './seat-map-cache';
import { eventRoutes } from './events';
import { hallRoutes } from './halls';
import { locationRoutes } from './locations';
import { organizerRoutes } from './organizers';
import { seatRoutes } from './seats';
import { sessionRoutes } from './sessions';

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
