import { defineRoute, type AnyRoute } from '@ticketing/platform';
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
    tags,
    body: createLocationBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: location } },
    handler: ({ body }) => createLocation(catalog, body),
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
