import {
  defineRoute,
  internalApiModule,
  seatHoldBatchRequestSchema,
  seatHoldBatchResponseSchema as seatHoldBatchResponse,
  withSpan,
  type ApiModule,
} from '@ticketing/platform';
import { placeHolds } from '../../domain/hold-batch';
import { z } from 'zod';
import {
  checkAvailability,
  getPricing,
  placeHold,
  releaseHold,
  sellHold,
  type SeatInventoryStore,
} from '../../domain/seat-inventory';
import {
  availabilityResponse,
  checkAvailabilityBody,
  confirmResponse,
  pricingQuery,
  pricingResponse,
  releaseResponse,
  reservationSeatsBody,
  reserveBody,
  reserveResponse,
  sessionParams,
} from '../../schemas/inventory';

const tags = ['internal (booking service)'];

/** Ids belong on spans (one trace is one buyer), never on metric labels. */
const inventorySpanAttributes = (sessionId: string, body: { reservation_id: string; session_seat_ids: string[] }) => ({
  'ticketing.session_id': sessionId,
  'ticketing.reservation_id': body.reservation_id,
  'ticketing.seat_count': body.session_seat_ids.length,
});
const unknownSession = { 404: { description: 'Unknown session' } };

/**
 * The synchronous API the booking service uses: availability, prices, hold, release, sell. After every call
 * that may change seats (whatever its answer), `onSeatsChanged` hears the session, so this instance's cached
 * seat map of it is dropped.
 */
export function internalInventoryModule(
  inventory: SeatInventoryStore,
  internalToken?: string,
  onSeatsChanged: (sessionId: string) => void = () => undefined,
): ApiModule {
  const changing =
    <T>(sessionId: string, work: () => Promise<T>) =>
    async (): Promise<T> => {
      try {
        return await work();
      } finally {
        onSeatsChanged(sessionId);
      }
    };
  return internalApiModule(internalToken, [
    defineRoute({
      method: 'get',
      path: '/health',
      operationId: 'internalHealth',
      summary: 'Liveness of the internal API (checks the token when one is configured)',
      tags,
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
      handler: () => ({ status: 'ok' }),
    }),
    defineRoute({
      method: 'post',
      path: '/sessions/:id/seats/check-availability',
      operationId: 'checkSeatAvailability',
      summary: 'Current status of up to 100 session seats',
      description: 'Seats that are not part of the session get status "not_found" and make `available` false.',
      tags,
      params: sessionParams,
      body: checkAvailabilityBody,
      responses: { 200: { description: 'Statuses', schema: availabilityResponse }, ...unknownSession },
      handler: ({ params, body }) => checkAvailability(inventory, params.id, body.session_seat_ids),
    }),
    defineRoute({
      method: 'get',
      path: '/sessions/:id/pricing',
      operationId: 'getSessionPricing',
      summary: 'Base price and per-seat prices of a session',
      tags,
      params: sessionParams,
      query: pricingQuery,
      responses: {
        200: { description: 'Prices', schema: pricingResponse },
        404: { description: 'Unknown session, or seats not in it (SEATS_NOT_FOUND)' },
      },
      handler: ({ params, query }) => getPricing(inventory, params.id, query.session_seat_ids),
    }),
    defineRoute({
      method: 'post',
      path: '/sessions/:id/seats/reserve',
      operationId: 'reserveSeats',
      summary: 'Hold seats for a reservation, all or nothing',
      description:
        'Moves every requested seat from available to reserved for the reservation, or none of them. ' +
        'Repeating the call for seats the reservation already holds answers 200 and changes nothing. ' +
        'Holds do not lapse by themselves: release, the consumer applying expired/cancelled, or the consumer\'s ' +
        'lapsed-hold check (after asking booking, LAPSED_HOLD_GRACE_SECONDS past reserved_until) frees them.',
      tags,
      params: sessionParams,
      body: reserveBody,
      responses: {
        200: { description: 'All seats held', schema: reserveResponse },
        ...unknownSession,
        409: { description: 'SEATS_UNAVAILABLE (details.unavailable lists them) or SESSION_STARTED' },
      },
      handler: ({ params, body }) =>
        withSpan(
          'event-service',
          'seat_inventory.hold',
          { attributes: inventorySpanAttributes(params.id, body) },
          changing(params.id, () =>
            placeHold(inventory, {
              sessionId: params.id,
              reservationId: body.reservation_id,
              seatIds: body.session_seat_ids,
              reservedUntil: new Date(body.reserved_until),
            }),
          ),
        ),
    }),
    defineRoute({
      method: 'post',
      path: '/holds/batch',
      operationId: 'reserveSeatsBatch',
      summary: 'Hold seats for many reservations in one call and one transaction',
      description:
        'Each hold is answered as POST /sessions/{id}/seats/reserve would answer it (status 200 with the hold, or its ' +
        'error), in request order. Each is all or nothing and independent of the others; when two want one seat, the ' +
        'earlier in the list gets it. The call answers 200 whenever it could answer for every hold.',
      tags,
      body: seatHoldBatchRequestSchema,
      responses: { 200: { description: 'One outcome per hold', schema: seatHoldBatchResponse } },
      handler: async ({ body }) => {
        const commands = body.holds.map((hold) => ({
          sessionId: hold.session_id,
          reservationId: hold.reservation_id,
          seatIds: hold.session_seat_ids,
          reservedUntil: new Date(hold.reserved_until),
        }));
        try {
          const results = await withSpan('event-service', 'seat_inventory.hold_batch', { attributes: { 'ticketing.batch_size': commands.length } }, () =>
            placeHolds(inventory, commands),
          );
          return { results };
        } finally {
          for (const sessionId of new Set(commands.map((command) => command.sessionId))) onSeatsChanged(sessionId);
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/sessions/:id/seats/release',
      operationId: 'releaseSeats',
      summary: "Return a reservation's held seats to sale",
      description: 'Only seats held by this reservation change; `released` also lists requested seats that are already available.',
      tags,
      params: sessionParams,
      body: reservationSeatsBody,
      responses: { 200: { description: 'Released', schema: releaseResponse }, ...unknownSession },
      handler: ({ params, body }) =>
        withSpan(
          'event-service',
          'seat_inventory.release',
          { attributes: inventorySpanAttributes(params.id, body) },
          changing(params.id, () =>
            releaseHold(inventory, { sessionId: params.id, reservationId: body.reservation_id, seatIds: body.session_seat_ids }),
          ),
        ),
    }),
    defineRoute({
      method: 'post',
      path: '/sessions/:id/seats/confirm',
      operationId: 'confirmSeats',
      summary: "Mark a reservation's held seats sold",
      description: 'Only seats held (or already sold) by this reservation are listed in `sold`.',
      tags,
      params: sessionParams,
      body: reservationSeatsBody,
      responses: { 200: { description: 'Sold', schema: confirmResponse }, ...unknownSession },
      handler: ({ params, body }) =>
        changing(params.id, () =>
          sellHold(inventory, { sessionId: params.id, reservationId: body.reservation_id, seatIds: body.session_seat_ids }),
        )(),
    }),
  ]);
}
