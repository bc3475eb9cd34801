import { actorOf, defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import { createEvent, getEvent, listEvents, type CatalogStore } from '../../domain/catalog';
import { idParams } from '../../schemas/common';
import { createEventBody, event, listEventsQuery } from '../../schemas/catalog';

const tags = ['events'];

export const eventRoutes = (catalog: CatalogStore): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/events',
    operationId: 'createEvent',
    summary: 'Create an event of an organizer',
    tags,
    body: createEventBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: event }, 403: { description: 'FORBIDDEN: needs the organizer role and membership of the owning organizer (jwt mode)' }, 404: { description: 'Unknown organizer' } },
    handler: ({ body }, ctx) => createEvent(catalog, actorOf(ctx), body),
  }),
  defineRoute({
    method: 'get',
    path: '/events',
    operationId: 'listEvents',
    summary: 'List events, optionally of one organizer',
    tags,
    query: listEventsQuery,
    responses: { 200: { description: 'Events', schema: z.array(event) }, 404: { description: 'Unknown organizer' } },
    handler: ({ query }) => listEvents(catalog, { organizer_id: query.organizer_id }, query),
  }),
  defineRoute({
    method: 'get',
    path: '/events/:id',
    operationId: 'getEvent',
    summary: 'Get an event',
    tags,
    params: idParams,
    responses: { 200: { description: 'The event', schema: event }, 404: { description: 'Unknown event' } },
    handler: ({ params }) => getEvent(catalog, params.id),
  }),
];
