import { defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import type { BookingDeps } from '../../domain/ports';
import { placeHold } from '../../domain/place-hold';
import { cancelReservation } from '../../domain/cancel-reservation';
import { confirmReservation } from '../../domain/confirm-reservation';
import { getReservation, listReservations } from '../../domain/reservation-reads';
import {
  confirmBody,
  createReservationBody,
  QUEUE_ADMISSION_HEADER,
  reservationHeaders,
  reservationSchema,
  reservationWithTicketsSchema,
} from '../../schemas/reservations';
import { idParams, pageQuery } from '../../schemas/common';
import { callerId } from './caller-identity';
import { toReservationBody, toReservationWithTicketsBody } from './reservation-view';
import type { RateLimits } from './rate-limits';
import { assertAdmitted, recordAdmittedHold, type WaitingRoomDeps } from '../../domain/waiting-room';

const tags = ['Reservations'];
const unauthenticated = { description: 'No or malformed caller identity' };

export function reservationRoutes(deps: BookingDeps, maxSeats: number, limits: RateLimits, waitingRoom: WaitingRoomDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/reservations',
      operationId: 'createReservation',
      summary: 'Hold seats for the caller (all or none) for RESERVATION_TTL_SECONDS',
      description:
        'Row and seat numbers and prices come from the event service; a price tier applies its multiplier. ' +
        '409 SEAT_LOCKED when another buyer is booking one of the seats right now, 409 SEATS_UNAVAILABLE when one is ' +
        'already held or sold, 503 EVENT_SERVICE_UNAVAILABLE when the event service cannot be reached (nothing is held). ' +
        'On a session with a waiting room: 403 QUEUE_ADMISSION_REQUIRED without the caller’s own, unexpired admission ' +
        'token for that session in X-Queue-Admission.',
      tags,
      headers: reservationHeaders,
      body: createReservationBody(maxSeats),
      bodyLimit: '64kb',
      responses: {
        201: { description: 'Seats held', schema: reservationSchema },
        401: unauthenticated,
        403: { description: 'QUEUE_ADMISSION_REQUIRED: the session has a waiting room and no valid admission token was sent' },
        404: { description: 'Unknown session' },
        409: { description: 'Seat locked or unavailable, or session started' },
        429: { description: 'Too many reservations from this caller or address (Retry-After)' },
        503: { description: 'Event service or lock service unavailable' },
      },
      rateLimit: limits.create_reservation,
      handler: async ({ body, headers }, ctx) => {
        const userId = callerId(ctx);
        const admission = await assertAdmitted(waitingRoom, { userId, sessionId: body.session_id, token: headers[QUEUE_ADMISSION_HEADER] });
        const result = await placeHold(deps, {
          userId,
          sessionId: body.session_id,
          seats: body.seats,
          idempotencyKey: headers['idempotency-key'],
        });
        if (admission.queued && result.status === 201) await recordAdmittedHold(waitingRoom, body.session_id, userId);
        ctx.status = result.status;
        // A replay renders the stored hold as it was answered (its time left then), so it repeats the first body.
        ctx.body = 'hold' in result ? toReservationBody(result.hold, result.hold.answeredAt.getTime()) : result.rendered;
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/reservations',
      operationId: 'listReservations',
      summary: 'The caller’s reservations, newest first',
      tags,
      query: pageQuery,
      responses: { 200: { description: 'Reservations', schema: z.array(reservationSchema) }, 401: unauthenticated },
      handler: async ({ query }, ctx) => {
        const now = Date.now();
        return (await listReservations(deps, callerId(ctx), query)).map((record) => toReservationBody(record, now));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/reservations/:id',
      operationId: 'getReservation',
      summary: 'One of the caller’s reservations, with its tickets once confirmed',
      tags,
      params: idParams,
      responses: {
        200: { description: 'Reservation', schema: reservationWithTicketsSchema },
        401: unauthenticated,
        404: { description: 'No such reservation of the caller' },
      },
      handler: async ({ params }, ctx) => toReservationWithTicketsBody(await getReservation(deps, callerId(ctx), params.id)),
    }),
    defineRoute({
      method: 'post',
      path: '/reservations/:id/confirm',
      operationId: 'confirmReservation',
      summary: 'Pay for a hold: the reservation is confirmed and one ticket per seat is issued',
      description:
        'The payment provider authorizes the total; only the confirm that wins captures it, every other attempt voids ' +
        'its authorization. Without a body (or with `{}`) the provider makes the payment id; a confirmed reservation ' +
        'then answers its result again. The same payment_id again returns the same result. 402 when the payment is declined (the hold stays active), ' +
        '410 "Reservation expired" after the hold expired, 409 when cancelled or confirmed with another payment.',
      tags,
      params: idParams,
      body: confirmBody,
      bodyLimit: '16kb',
      responses: {
        200: { description: 'Confirmed', schema: reservationWithTicketsSchema },
        401: unauthenticated,
        402: { description: 'Payment declined' },
        404: { description: 'No such reservation of the caller' },
        409: { description: 'Cancelled, or confirmed with another payment' },
        410: { description: 'Reservation expired' },
        429: { description: 'Too many confirms from this caller or address (Retry-After)' },
      },
      rateLimit: limits.confirm_reservation,
      handler: async ({ params, body }, ctx) =>
        toReservationWithTicketsBody(
          await confirmReservation(deps, { userId: callerId(ctx), reservationId: params.id, paymentId: body.payment_id }),
        ),
    }),
    defineRoute({
      method: 'delete',
      path: '/reservations/:id',
      operationId: 'cancelReservation',
      summary: 'Cancel an active hold; its seats return to sale',
      tags,
      params: idParams,
      responses: {
        200: { description: 'Cancelled', schema: reservationWithTicketsSchema },
        401: unauthenticated,
        404: { description: 'No such reservation of the caller' },
        409: { description: 'Already confirmed' },
        410: { description: 'Reservation expired' },
      },
      handler: async ({ params }, ctx) => toReservationWithTicketsBody(await cancelReservation(deps, { userId: callerId(ctx), reservationId: params.id })),
    }),
  ];
}
