import { defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import type { BookingDeps } from '../../domain/ports';
import { getTicket, getTicketQrPng, listUserTickets, refundTicket } from '../../domain/tickets';
import { toTicketBody } from './reservation-view';
import { idParams, ticketPageQuery, userIdParams } from '../../schemas/common';
import { ticketSchema } from '../../schemas/reservations';
import { callerId } from './caller-identity';

const tags = ['Tickets'];
const unauthenticated = { description: 'No or malformed caller identity' };
const notYours = { description: 'No such ticket of the caller' };

export function ticketRoutes(deps: BookingDeps): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/tickets/user/:user_id',
      operationId: 'listUserTickets',
      summary: 'The caller’s tickets, newest first (user_id must be the caller)',
      tags,
      params: userIdParams,
      query: ticketPageQuery,
      responses: {
        200: { description: 'Tickets', schema: z.array(ticketSchema) },
        401: unauthenticated,
        403: { description: 'Another user’s tickets' },
      },
      handler: async ({ params, query }, ctx) => (await listUserTickets(deps, callerId(ctx), params.user_id, query)).map(toTicketBody),
    }),
    defineRoute({
      method: 'get',
      path: '/tickets/:id',
      operationId: 'getTicket',
      summary: 'One of the caller’s tickets',
      tags,
      params: idParams,
      responses: { 200: { description: 'Ticket', schema: ticketSchema }, 401: unauthenticated, 404: notYours },
      handler: async ({ params }, ctx) => toTicketBody(await getTicket(deps, callerId(ctx), params.id)),
    }),
    defineRoute({
      method: 'get',
      path: '/tickets/:id/qr',
      operationId: 'getTicketQr',
      summary: 'The ticket’s QR code as a PNG image',
      tags,
      params: idParams,
      responses: { 200: { description: 'QR code', contentType: 'image/png' }, 401: unauthenticated, 404: notYours },
      handler: async ({ params }, ctx) => {
        const png = await getTicketQrPng(deps, callerId(ctx), params.id);
        ctx.status = 200;
        ctx.type = 'image/png';
        ctx.set('Cache-Control', 'private, max-age=3600');
        ctx.body = png;
        return undefined;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/tickets/:id/refund',
      operationId: 'refundTicket',
      summary: 'Refund a ticket; its seat returns to sale',
      tags,
      params: idParams,
      responses: {
        200: { description: 'Refunded', schema: ticketSchema },
        401: unauthenticated,
        404: notYours,
        409: { description: 'Ticket already used' },
      },
      handler: async ({ params }, ctx) => toTicketBody(await refundTicket(deps, { userId: callerId(ctx), ticketId: params.id })),
    }),
  ];
}
