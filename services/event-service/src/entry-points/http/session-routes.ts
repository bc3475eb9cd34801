import { actorOf, defineRoute, notFound, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import {
  createSession,
  getSession,
  listSessionSeats,
  listSessions,
  type CatalogStore,
} from '../../domain/catalog';
import { plainBody, type SeatMapCache } from './seat-map-cache';
import { idParams, paginationQuery } from '../../schemas/common';
import { createSessionBody, listSessionsQuery, seatMap, session, sessionSeat } from '../../schemas/catalog';

const tags = ['sessions'];
const unknownSession = { 404: { description: 'Unknown session' } };

export const sessionRoutes = (catalog: CatalogStore, seatMaps: SeatMapCache): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/sessions',
    operationId: 'createSession',
    summary: 'Create a session of an event in a hall, with one available seat per hall seat',
    description:
      'Copies every seat of the hall into the session in the same transaction, priced at base_price ' +
      '(times seat_type_multipliers[seat_type] when given). Seats added to the hall later are not copied.',
    tags,
    body: createSessionBody,
    status: 201,
    responses: {
      201: { description: 'Created', schema: session },
      403: { description: 'FORBIDDEN: needs the organizer role and membership of the owning organizer (jwt mode)' },
      404: { description: 'Unknown event or hall' },
    },
    handler: ({ body }, ctx) => createSession(catalog, actorOf(ctx), body),
  }),
  defineRoute({
    method: 'get',
    path: '/sessions',
    operationId: 'listSessions',
    summary: 'List sessions by start time, optionally of one event or hall',
    tags,
    query: listSessionsQuery,
    responses: { 200: { description: 'Sessions', schema: z.array(session) }, 404: { description: 'Unknown event or hall' } },
    handler: ({ query }) => listSessions(catalog, { event_id: query.event_id, hall_id: query.hall_id }, query),
  }),
  defineRoute({
    method: 'get',
    path: '/sessions/:id',
    operationId: 'getSession',
    summary: 'Get a session',
    tags,
    params: idParams,
    responses: { 200: { description: 'The session', schema: session }, ...unknownSession },
    handler: ({ params }) => getSession(catalog, params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/sessions/:id/seats',
    operationId: 'listSessionSeats',
    summary: 'List the session seats of a session, by row then seat (paginated)',
    tags,
    params: idParams,
    query: paginationQuery,
    responses: { 200: { description: 'Session seats', schema: z.array(sessionSeat) }, ...unknownSession },
    handler: ({ params, query }) => listSessionSeats(catalog, params.id, query),
  }),
  defineRoute({
    method: 'get',
    path: '/sessions/:id/seat-map',
    operationId: 'getSeatMap',
    summary: 'The whole seat map of a session, by row then seat',
    description:
      'Every seat with its status (available, reserved, sold). Sends an ETag; a request with a matching ' +
      'If-None-Match gets 304 Not Modified without a body. Gzip-compressed when the request accepts it. The map ' +
      'may be up to SEAT_MAP_CACHE_MS (default 500 ms) old, except that holds, releases and sales made through ' +
      'the same API instance show at once.',
    tags,
    params: idParams,
    responses: {
      200: { description: 'The seat map', schema: seatMap },
      304: { description: 'Not modified since the ETag given in If-None-Match' },
      ...unknownSession,
    },
    handler: async ({ params }, ctx) => {
      // Possibly up to the cache's time-to-live old.
      const map = await seatMaps.get(params.id);
      if (!map) throw notFound('Session', params.id);
      ctx.set('ETag', map.etag);
      ctx.set('Cache-Control', 'no-cache');
      ctx.vary('Accept-Encoding');
      if (matchesIfNoneMatch(ctx.get('If-None-Match'), map.etag)) {
        ctx.status = 304;
        return undefined;
      }
      ctx.status = 200;
      ctx.type = 'application/json';
      // Only the compressed copy is kept; a client that does not take gzip gets it decompressed as it reads.
      if (ctx.acceptsEncodings('gzip', 'identity') === 'gzip') {
        ctx.set('Content-Encoding', 'gzip');
        ctx.body = map.gzip;
      } else {
        ctx.body = plainBody(map);
        ctx.length = map.length;
      }
      return undefined;
    },
  }),
];

/** RFC 9110 If-None-Match: weak comparison against a list of entity tags, or "*". */
export function matchesIfNoneMatch(header: string, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim() === '*' || opaque(candidate) === opaque(etag));
}
