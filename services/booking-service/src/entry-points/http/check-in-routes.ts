import { callerOf, defineRoute, requireRole, type AnyRoute, type ApiModule, type Identity } from '@ticketing/platform';
import type { Context } from 'koa';
import { checkInTicket, sessionCheckInList, uploadOfflineScans, type Scanner } from '../../domain/check-in';
import type { BookingDeps } from '../../domain/ports';
import { admittedSchema, checkInBatchBody, checkInBatchSchema, checkInBody, checkInListSchema, ticketKeysSchema } from '../../schemas/check-in';
import { idParams } from '../../schemas/common';

const tags = ['Check-in'];
const unauthenticated = { description: 'No or malformed caller identity' };
const notDoorStaff = { description: 'FORBIDDEN: verified identity (jwt mode) without the door or admin role' };

/**
 * Door staff: with verified identity (jwt mode) the caller needs the door or admin role; in development's
 * header mode the X-User-ID caller suffices (as the seed flow's other steps).
 */
function doorStaff(identity: Identity, ctx: Context, gate?: string): Scanner {
  const caller = callerOf(ctx);
  if (identity.mode === 'jwt') requireRole(caller, 'door', 'admin');
  return { userId: caller.userId, ...(gate ? { gate } : {}) };
}

/** The check-in routes behind the booking API's caller guard. */
export function checkInRoutes(deps: BookingDeps, identity: Identity): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/check-ins',
      operationId: 'checkIn',
      summary: 'Admit a ticket at the door (door or admin role)',
      description:
        'Verifies the scanned code (Ed25519 signature, key id, expiry), checks it is for this session and admits the ' +
        'ticket exactly once, whatever the concurrency. 409 ALREADY_USED says when and at which gate it was first ' +
        'admitted; 410 REVOKED a refunded ticket; 409 WRONG_SESSION a valid ticket of another session; 422 INVALID_CODE ' +
        'a forged, garbled, expired or unknown-key code (details.reason).',
      tags,
      body: checkInBody,
      responses: {
        200: { description: 'ADMITTED: the seat and holder', schema: admittedSchema },
        401: unauthenticated,
        403: notDoorStaff,
        409: { description: 'ALREADY_USED or WRONG_SESSION' },
        410: { description: 'REVOKED: the ticket was refunded' },
        422: { description: 'INVALID_CODE (or a malformed request: VALIDATION_ERROR)' },
      },
      handler: ({ body }, ctx) =>
        checkInTicket(deps, { code: body.code, sessionId: body.session_id, scanner: doorStaff(identity, ctx, body.gate) }),
    }),
    defineRoute({
      method: 'post',
      path: '/check-ins/batch',
      operationId: 'uploadOfflineCheckIns',
      summary: 'Upload scans an offline scanner made (door or admin role)',
      description:
        'Applied in scan order: the first scan of a ticket wins; every later one (in this batch, an earlier upload or ' +
        'a live scan) is DUPLICATE with both times. Uploading the same batch again changes nothing. Results in upload order.',
      tags,
      body: checkInBatchBody,
      bodyLimit: '2mb',
      responses: {
        200: { description: 'One result per scan', schema: checkInBatchSchema },
        401: unauthenticated,
        403: notDoorStaff,
      },
      handler: ({ body }, ctx) =>
        uploadOfflineScans(deps, { sessionId: body.session_id, scans: body.scans, scanner: doorStaff(identity, ctx, body.gate) }),
    }),
    defineRoute({
      method: 'get',
      path: '/sessions/:id/check-in-list',
      operationId: 'getCheckInList',
      summary: 'What an offline scanner needs for a session (door or admin role)',
      description:
        'The public keys, the ticket ids still to admit, those admitted (when, where) and those revoked, with a version ' +
        '(also the ETag: poll with If-None-Match, 304 while nothing changed).',
      tags,
      params: idParams,
      responses: {
        200: { description: 'Check-in list (ETag: its version)', schema: checkInListSchema },
        304: { description: 'Unchanged since the ETag given in If-None-Match' },
        401: unauthenticated,
        403: notDoorStaff,
      },
      handler: async ({ params }, ctx) => {
        doorStaff(identity, ctx);
        const list = await sessionCheckInList(deps, params.id);
        const etag = `"${list.version}"`;
        ctx.set('ETag', etag);
        ctx.set('Cache-Control', 'private, no-cache');
        if (ctx.get('If-None-Match').split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
          ctx.status = 304;
          return undefined;
        }
        return list;
      },
    }),
  ];
}

/** GET /ticket-keys: the JWKS scanners verify codes with. Public keys only, readable by anyone. */
export function ticketKeysModule(deps: Pick<BookingDeps, 'settings'>): ApiModule {
  return {
    prefix: '/api/v1',
    routes: [
      defineRoute({
        method: 'get',
        path: '/ticket-keys',
        operationId: 'getTicketKeys',
        summary: 'The public keys ticket codes are signed with (JWKS; the active key first)',
        tags,
        responses: { 200: { description: 'JWKS', schema: ticketKeysSchema } },
        handler: (_input, ctx) => {
          ctx.set('Cache-Control', 'public, max-age=300');
          return deps.settings.ticketKeys.jwks();
        },
      }),
    ],
  };
}
