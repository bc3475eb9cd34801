import { defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import { createOrganizer, getOrganizer, listOrganizers, type CatalogStore } from '../../domain/catalog';
import { idParams, paginationQuery } from '../../schemas/common';
import { createOrganizerBody, organizer } from '../../schemas/catalog';

const tags = ['organizers'];

export const organizerRoutes = (catalog: CatalogStore): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/organizers',
    operationId: 'createOrganizer',
    summary: 'Create an organizer',
    tags,
    body: createOrganizerBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: organizer } },
    handler: ({ body }) => createOrganizer(catalog, body),
  }),
  defineRoute({
    method: 'get',
    path: '/organizers',
    operationId: 'listOrganizers',
    summary: 'List organizers (oldest first)',
    tags,
    query: paginationQuery,
    responses: { 200: { description: 'Organizers', schema: z.array(organizer) } },
    handler: ({ query }) => listOrganizers(catalog, query),
  }),
  defineRoute({
    method: 'get',
    path: '/organizers/:id',
    operationId: 'getOrganizer',
    summary: 'Get an organizer',
    tags,
    params: idParams,
    responses: { 200: { description: 'The organizer', schema: organizer }, 404: { description: 'Unknown organizer' } },
    handler: ({ params }) => getOrganizer(catalog, params.id),
  }),
];
