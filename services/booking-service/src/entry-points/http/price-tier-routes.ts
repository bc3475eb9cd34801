import { defineRoute, type ApiModule } from '@ticketing/platform';
import { z } from 'zod';
import type { BookingDeps } from '../../domain/ports';
import { createPriceTier, getPriceTier, listPriceTiers } from '../../domain/price-tiers';
import { createPriceTierBody, idParams, priceTierQuery, priceTierSchema } from '../../schemas';

const tags = ['Price tiers'];

export function priceTierModule(deps: Pick<BookingDeps, 'store'>): ApiModule {
  return {
    prefix: '/api/v1',
    routes: [
      defineRoute({
        method: 'post',
        path: '/price-tiers',
        operationId: 'createPriceTier',
        summary: 'Create a price tier (a multiplier on the seat price; global when session_id is omitted)',
        tags,
        body: createPriceTierBody,
        status: 201,
        responses: { 201: { description: 'Created', schema: priceTierSchema } },
        handler: ({ body }) => createPriceTier(deps.store, body),
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
