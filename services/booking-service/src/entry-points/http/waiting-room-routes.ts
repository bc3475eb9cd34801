import {
  actorOf,
  defineRoute,
  identitySecurityScheme,
  requireCallerForWrites,
  type AnyRoute,
  type ApiModule,
  type Identity,
} from '@ticketing/platform';
import {
  closeWaitingRoom,
  configureWaitingRoom,
  getWaitingRoom,
  joinQueue,
  queueStatus,
  type WaitingRoomDeps,
} from '../../domain/waiting-room';
import { idParams } from '../../schemas/common';
import { queueStatusSchema, queueTicketParams, waitingRoomBody, waitingRoomSchema } from '../../schemas/waiting-room';
import { callerId } from './caller-identity';
import type { QueueStreams } from './queue-streams';

const tags = ['Waiting room'];
const unauthenticated = { description: 'No or malformed caller identity' };
const noWaitingRoom = { description: 'Unknown session, or it has no waiting room' };
const unavailable = { description: 'WAITING_ROOM_UNAVAILABLE: its Redis is not answering' };

/** The organizer's side: reads are public (the web app shows the queue when a session has one), writes the organizer's. */
export function waitingRoomModule(deps: WaitingRoomDeps, identity: Identity): ApiModule {
  return {
    prefix: '/api/v1',
    guard: requireCallerForWrites(identity),
    ...(identity.mode === 'jwt' ? { writeSecurity: [identitySecurityScheme('jwt').name] } : {}),
    routes: [
      defineRoute({
        method: 'put',
        path: '/sessions/:id/waiting-room',
        operationId: 'configureWaitingRoom',
        summary: 'Turn the waiting room on for a session, or change its settings',
        description:
          'From then on POST /reservations on the session needs an admission token. The rate and hold window can be ' +
          'changed while the queue runs (the next tick uses them); the opening time only until the queue opened. ' +
          'With verified identity (jwt mode) only the session’s organizer (or an admin) may.',
        tags,
        params: idParams,
        body: waitingRoomBody,
        bodyLimit: '4kb',
        responses: {
          200: { description: 'The waiting room', schema: waitingRoomSchema },
          401: { description: 'No verified caller (jwt mode)' },
          403: { description: 'FORBIDDEN: not the session’s organizer' },
          404: { description: 'Unknown session' },
        },
        handler: ({ params, body }, ctx) =>
          configureWaitingRoom(deps, actorOf(ctx), params.id, {
            opensAt: new Date(body.opens_at),
            admissionRatePerSecond: body.admission_rate_per_second,
            holdWindowSeconds: body.hold_window_seconds,
          }),
      }),
      defineRoute({
        method: 'get',
        path: '/sessions/:id/waiting-room',
        operationId: 'getWaitingRoom',
        summary: 'A session’s waiting room settings and state (404 when it has none)',
        tags,
        params: idParams,
        responses: { 200: { description: 'The waiting room', schema: waitingRoomSchema }, 404: noWaitingRoom },
        handler: ({ params }) => getWaitingRoom(deps, params.id),
      }),
      defineRoute({
        method: 'delete',
        path: '/sessions/:id/waiting-room',
        operationId: 'closeWaitingRoom',
        summary: 'Turn the waiting room off: the queue is dropped and reservations need no admission token',
        tags,
        params: idParams,
        status: 204,
        responses: {
          204: { description: 'Closed' },
          401: { description: 'No verified caller (jwt mode)' },
          403: { description: 'FORBIDDEN: not the session’s organizer' },
          404: noWaitingRoom,
        },
        handler: async ({ params }, ctx) => {
          await closeWaitingRoom(deps, actorOf(ctx), params.id);
          ctx.status = 204;
          return undefined;
        },
      }),
    ],
  };
}

/** The buyer's side, behind the caller guard. */
export function queueRoutes(deps: WaitingRoomDeps, streams: QueueStreams): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/sessions/:id/queue',
      operationId: 'joinQueue',
      summary: 'Join the session’s queue (joining again returns the same place)',
      description:
        'Before the opening time everyone gets a place drawn at random when the queue opens (no advantage from ' +
        'joining early or from many tabs: one place per user); after it, first come first served. Poll ' +
        'GET /queue/{queue_ticket} (or follow its /stream) for the position and, once admitted, the admission token.',
      tags,
      params: idParams,
      responses: {
        200: { description: 'The caller’s place', schema: queueStatusSchema },
        401: unauthenticated,
        404: noWaitingRoom,
        503: unavailable,
      },
      handler: ({ params }, ctx) => joinQueue(deps, callerId(ctx), params.id),
    }),
    defineRoute({
      method: 'get',
      path: '/queue/:ticket',
      operationId: 'getQueueStatus',
      summary: 'Position, people ahead, estimated wait and, once admitted, the admission token',
      tags,
      params: queueTicketParams,
      responses: {
        200: { description: 'The caller’s place', schema: queueStatusSchema },
        401: unauthenticated,
        403: { description: 'FORBIDDEN: another user’s queue ticket' },
        404: noWaitingRoom,
        503: unavailable,
      },
      handler: ({ params }, ctx) => queueStatus(deps, callerId(ctx), params.ticket),
    }),
    defineRoute({
      method: 'get',
      path: '/queue/:ticket/stream',
      operationId: 'streamQueueStatus',
      summary: 'Server-sent events: a `status` event (same body as GET /queue/{queue_ticket}) at once and on every change',
      description: 'Ends after a final status: ADMITTED (with the token), SOLD_OUT or NOT_IN_QUEUE.',
      tags,
      params: queueTicketParams,
      responses: {
        200: { description: 'text/event-stream of `status` events', contentType: 'text/event-stream' },
        401: unauthenticated,
        403: { description: 'FORBIDDEN: another user’s queue ticket' },
        404: noWaitingRoom,
      },
      handler: async ({ params }, ctx) => {
        const userId = callerId(ctx);
        streams.open(ctx, await queueStatus(deps, userId, params.ticket), userId);
        return undefined;
      },
    }),
  ];
}
