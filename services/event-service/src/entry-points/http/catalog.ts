import type { ApiModule, Knex } from '@ticketing/platform';
import { catalogRepository } from '../../data-access/catalog-repository';
import type { SeatMapCache } from '../../domain/seat-map-cache';
import { eventRoutes } from './events';
import { hallRoutes } from './halls';
import { locationRoutes } from './locations';
import { organizerRoutes } from './organizers';
import { seatRoutes } from './seats';
import { sessionRoutes } from './sessions';

/** The public catalog API, /api/v1. */
export function catalogModule(db: Knex, seatMaps: SeatMapCache): ApiModule {
  const catalog = catalogRepository(db);
  return {
    prefix: '/api/v1',
    routes: [
      ...organizerRoutes(catalog),
      ...locationRoutes(catalog),
      ...hallRoutes(catalog),
      ...seatRoutes(catalog),
      ...eventRoutes(catalog),
      ...sessionRoutes(catalog, seatMaps),
    ],
  };
}
