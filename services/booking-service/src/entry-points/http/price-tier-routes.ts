import {
  actorOf,
  defineRoute,
  identitySecurityScheme,
  requireCallerForWrites,
  type ApiModule,
  type Identity,
} from '@ticketing/platform';
import { z } from 'zod';
import type { BookingDeps } from '../../domain/ports';
import { createPriceTier, getPriceTier, listPriceTiers } from '../../domain/price-tiers';
import { idParams } from '../../schemas/common';
import { createPriceTierBody, priceTierQuery, priceTierSchema } from '../../schemas/price-tiers';

const tags = ['Price tiers'];

/** Reads are public; creating a tier needs an organizer (its session) or an admin (global) in jwt mode. */
export function priceTierModule(deps: Pick<BookingDeps, 'store' | 'eventService'>, identity: Identity): ApiModule {
  return {
    prefix: '/api/v1',
    guard: requireCallerForWrites(identity),
    ...(identity.mode === 'jwt' ? { writeSecurity: [identitySecurityScheme('jwt').name] } : {}),
    routes: [
      defineRoute({
        method: 'post',
        path: '/price-tiers',
        operationId: 'createPriceTier',
        summary: 'Create a price tier (a multiplier on the seat price; global when session_id is omitted)',
        tags,
        body: createPriceTierBody,
        status: 201,
        description:
          'With verified identity (jwt mode): a tier of a session needs the organizer role and membership of the ' +
          "session's organizer; a global tier (no session_id) needs the admin role. Open in development mode.",
        responses: {
          201: { description: 'Created', schema: priceTierSchema },
          401: { description: 'No verified caller (jwt mode)' },
          403: { description: 'FORBIDDEN: not an admin (global tier) or not the session’s organizer' },
          404: { description: 'Unknown session (jwt mode)' },
        },
        handler: ({ body }, ctx) => createPriceTier(deps, actorOf(ctx), body),
      }),
      defineRoute({
        method: 'get',
        path: '/price-tiers',
        operationId: 'listPriceTiers',
        summary: 'List price tiers (with session_id: that session’s tiers and the global ones)',
        tags,
        query: priceTierQuery,
        responses: { 200: { description: 'Price tiers', schema: z.array(priceTierSchema) } },
        handler: ({ query }) => listPriceTiers(deps.store, query),
      }),
      defineRoute({
        method: 'get',
        path: '/price-tiers/:id',
        operationId: 'getPriceTier',
        summary: 'Get a price tier',
        tags,
        params: idParams,
        responses: { 200: { description: 'Price tier', schema: priceTierSchema }, 404: { description: 'Unknown price tier' } },
        handler: ({ params }) => getPriceTier(deps.store, params.id),
      }),
    ],
  };
}
