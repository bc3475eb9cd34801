import { actorOf, defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import { createHall, getHall, listHalls, type CatalogStore } from '../../domain/catalog';
import { idParams, paginationQuery } from '../../schemas/common';
import {
  createHallBody,
  createLocationHallBody,
  hall,
  listHallsQuery,
  locationHallParams,
} from '../../schemas/catalog';

const tags = ['halls'];
const unknownLocation = { 404: { description: 'Unknown location' } };
const forbidden = { 403: { description: 'FORBIDDEN: needs the organizer role and membership of the owning organizer (jwt mode)' } };

export const hallRoutes = (catalog: CatalogStore): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/locations/:location_id/halls',
    operationId: 'createLocationHall',
    summary: 'Create a hall in a location',
    tags,
    params: locationHallParams,
    body: createLocationHallBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: hall }, ...forbidden, ...unknownLocation },
    handler: ({ params, body }, ctx) => createHall(catalog, actorOf(ctx), { ...body, location_id: params.location_id }),
  }),
  defineRoute({
    method: 'get',
    path: '/locations/:location_id/halls',
    operationId: 'listLocationHalls',
    summary: 'List the halls of a location',
    tags,
    params: locationHallParams,
    query: paginationQuery,
    responses: { 200: { description: 'Halls', schema: z.array(hall) }, ...unknownLocation },
    handler: ({ params, query }) => listHalls(catalog, { location_id: params.location_id }, query),
  }),
  defineRoute({
    method: 'post',
    path: '/halls',
    operationId: 'createHall',
    summary: 'Create a hall (location_id in the body)',
    tags,
    body: createHallBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: hall }, ...forbidden, ...unknownLocation },
    handler: ({ body }, ctx) => createHall(catalog, actorOf(ctx), body),
  }),
  defineRoute({
    method: 'get',
    path: '/halls',
    operationId: 'listHalls',
    summary: 'List halls, optionally of one location',
    tags,
    query: listHallsQuery,
    responses: { 200: { description: 'Halls', schema: z.array(hall) }, ...unknownLocation },
    handler: ({ query }) => listHalls(catalog, { location_id: query.location_id }, query),
  }),
  defineRoute({
    method: 'get',
    path: '/halls/:id',
    operationId: 'getHall',
    summary: 'Get a hall',
    tags,
    params: idParams,
    responses: { 200: { description: 'The hall', schema: hall }, 404: { description: 'Unknown hall' } },
    handler: ({ params }) => getHall(catalog, params.id),
  }),
];
