import { actorOf, defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import { createLocation, getLocation, listLocations, type CatalogStore } from '../../domain/catalog';
import { idParams, paginationQuery } from '../../schemas/common';
import { createLocationBody, location } from '../../schemas/catalog';

const tags = ['locations'];

export const locationRoutes = (catalog: CatalogStore): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/locations',
    operationId: 'createLocation',
    summary: 'Create a location (venue)',
    description:
      'organizer_id names the organizer that owns the venue (its halls and seats too). With verified identity an ' +
      'organizer must give one it is a member of; only an admin may create an unowned venue.',
    tags,
    body: createLocationBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: location }, 403: { description: 'FORBIDDEN: needs the organizer role and membership of the owning organizer (jwt mode)' } },
    handler: ({ body }, ctx) => createLocation(catalog, actorOf(ctx), body),
  }),
  defineRoute({
    method: 'get',
    path: '/locations',
    operationId: 'listLocations',
    summary: 'List locations (oldest first)',
    tags,
    query: paginationQuery,
    responses: { 200: { description: 'Locations', schema: z.array(location) } },
    handler: ({ query }) => listLocations(catalog, query),
  }),
  defineRoute({
    method: 'get',
    path: '/locations/:id',
    operationId: 'getLocation',
    summary: 'Get a location',
    tags,
    params: idParams,
    responses: { 200: { description: 'The location', schema: location }, 404: { description: 'Unknown location' } },
    handler: ({ params }) => getLocation(catalog, params.id),
  }),
];
