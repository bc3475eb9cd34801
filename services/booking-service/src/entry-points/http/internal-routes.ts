import { defineRoute, internalApiModule, type ApiModule } from '@ticketing/platform';
import { z } from 'zod';
import type { BookingDeps } from '../../domain/ports';
import { reservationFates } from '../../domain/reservation-status';

const tags = ['internal (event service)'];

const statusBody = z.object({ reservation_ids: z.array(z.guid()).min(1).max(500) }).strict();
const statusResponse = z.object({
  reservations: z.array(
    z.object({
      reservation_id: z.guid(),
      status: z.enum(['active', 'confirmed', 'expired', 'cancelled', 'refunded', 'pending', 'unknown']),
    }),
  ),
});

/** Booking's API for the event service, protected like the event service's internal API (X-Internal-Token). */
export function internalModule(deps: Pick<BookingDeps, 'store' | 'logger' | 'relay' | 'metrics'>, internalToken?: string): ApiModule {
  return internalApiModule(internalToken, [
    defineRoute({
      method: 'post',
      path: '/reservations/status',
      operationId: 'reservationStatuses',
      summary: 'What became of these reservations (the event service asks before returning lapsed holds to sale)',
      description:
        'Active reservations past their expiry are expired first (with their reservation.expired message). ' +
        '`pending`: no reservation yet but its hold request may still be running; `unknown`: no such reservation.',
      tags,
      body: statusBody,
      responses: { 200: { description: 'One answer per distinct id', schema: statusResponse } },
      handler: async ({ body }) => ({ reservations: await reservationFates(deps, body.reservation_ids) }),
    }),
  ]);
}
