import { actorOf, defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import { addSeat, addSeats, listSeats, type CatalogStore } from '../../domain/catalog';
import { paginationQuery } from '../../schemas/common';
import {
  MAX_SEATS_PER_HALL,
  bulkSeatsBody,
  bulkSeatsResponse,
  hallParams,
  seat,
  seatInput,
} from '../../schemas/catalog';

const tags = ['seats'];
const errors = {
  403: { description: 'FORBIDDEN: needs the organizer role and membership of the owning organizer (jwt mode)' },
  404: { description: 'Unknown hall' },
  409: { description: 'SEAT_EXISTS: a seat with the same row and seat number is already in the hall' },
};

export const seatRoutes = (catalog: CatalogStore): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/halls/:hall_id/seats',
    operationId: 'createSeat',
    summary: 'Add one seat to a hall',
    tags,
    params: hallParams,
    body: seatInput,
    status: 201,
    responses: { 201: { description: 'Created', schema: seat }, ...errors },
    handler: ({ params, body }, ctx) => addSeat(catalog, actorOf(ctx), params.hall_id, body, MAX_SEATS_PER_HALL),
  }),
  defineRoute({
    method: 'post',
    path: '/halls/:hall_id/seats/bulk',
    operationId: 'createSeatsBulk',
    summary: 'Add up to 100,000 seats to a hall in one call, all or none',
    description:
      'Every seat is validated; a 422 lists the first invalid or repeated seats by index. Seats that already ' +
      `exist in the hall make it a 409. A hall holds at most ${MAX_SEATS_PER_HALL} seats (422 HALL_SEAT_LIMIT).`,
    tags,
    params: hallParams,
    body: bulkSeatsBody,
    // 100,000 seats with long labels and types stay well under this.
    bodyLimit: '32mb',
    status: 201,
    responses: { 201: { description: 'Created', schema: bulkSeatsResponse }, ...errors },
    handler: ({ params, body }, ctx) => addSeats(catalog, actorOf(ctx), params.hall_id, body.seats, MAX_SEATS_PER_HALL),
  }),
  defineRoute({
    method: 'get',
    path: '/halls/:hall_id/seats',
    operationId: 'listSeats',
    summary: 'List the seats of a hall, by row then seat (numeric-aware)',
    tags,
    params: hallParams,
    query: paginationQuery,
    responses: { 200: { description: 'Seats', schema: z.array(seat) }, 404: errors[404] },
    handler: ({ params, query }) => listSeats(catalog, params.hall_id, query),
  }),
];
