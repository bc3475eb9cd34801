import { defineRoute, internalApiModule, sessionOrganizerSchema, type ApiModule } from '@ticketing/platform';
import { z } from 'zod';
import { getSessionOrganizer, type CatalogStore } from '../../domain/catalog';
import { uuid } from '../../schemas/common';
import { sessionParams } from '../../schemas/inventory';

/** Ownership questions the booking service asks before it lets an organizer price a session. */
export function internalOwnershipModule(catalog: CatalogStore, internalToken?: string): ApiModule {
  return internalApiModule(internalToken, [
    defineRoute({
      method: 'get',
      path: '/sessions/:id/organizer',
      operationId: 'getSessionOrganizer',
      summary: "The session's organizer and whether user_id is one of its members",
      tags: ['internal (booking service)'],
      params: sessionParams,
      query: z.object({ user_id: uuid }),
      responses: { 200: { description: 'Owner', schema: sessionOrganizerSchema }, 404: { description: 'Unknown session' } },
      handler: ({ params, query }) => getSessionOrganizer(catalog, params.id, query.user_id),
    }),
  ]);
}
