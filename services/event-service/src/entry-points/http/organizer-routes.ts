import { actorOf, defineRoute, type AnyRoute } from '@ticketing/platform';
import { z } from 'zod';
import {
  addOrganizerMember,
  createOrganizer,
  getOrganizer,
  listOrganizerMembers,
  listOrganizers,
  type CatalogStore,
} from '../../domain/catalog';
import { idParams, paginationQuery } from '../../schemas/common';
import {
  addOrganizerMemberBody,
  createOrganizerBody,
  organizer,
  organizerMember,
  organizerMemberParams,
} from '../../schemas/catalog';

const tags = ['organizers'];

export const organizerRoutes = (catalog: CatalogStore): AnyRoute[] => [
  defineRoute({
    method: 'post',
    path: '/organizers',
    operationId: 'createOrganizer',
    summary: 'Create an organizer (its creator becomes its first member)',
    tags,
    body: createOrganizerBody,
    status: 201,
    responses: { 201: { description: 'Created', schema: organizer }, 403: { description: 'FORBIDDEN: needs the organizer or admin role (jwt mode)' } },
    handler: ({ body }, ctx) => createOrganizer(catalog, actorOf(ctx), body),
  }),
  defineRoute({
    method: 'get',
    path: '/organizers',
    operationId: 'listOrganizers',
    summary: 'List organizers (oldest first)',
    tags,
    query: paginationQuery,
    responses: { 200: { description: 'Organizers', schema: z.array(organizer) } },
    handler: ({ query }) => listOrganizers(catalog, query),
  }),
  defineRoute({
    method: 'get',
    path: '/organizers/:id',
    operationId: 'getOrganizer',
    summary: 'Get an organizer',
    tags,
    params: idParams,
    responses: { 200: { description: 'The organizer', schema: organizer }, 404: { description: 'Unknown organizer' } },
    handler: ({ params }) => getOrganizer(catalog, params.id),
  }),
  defineRoute({
    method: 'post',
    path: '/organizers/:id/members',
    operationId: 'addOrganizerMember',
    summary: 'Add a member (a user who may manage the organizer’s catalog and prices)',
    description: 'Members may add members; adding an existing member returns the existing membership.',
    tags,
    params: organizerMemberParams,
    body: addOrganizerMemberBody,
    status: 201,
    responses: {
      201: { description: 'The membership', schema: organizerMember },
      403: { description: 'FORBIDDEN: only members (organizer role) and admins add members (jwt mode)' },
      404: { description: 'Unknown organizer' },
    },
    handler: ({ params, body }, ctx) => addOrganizerMember(catalog, actorOf(ctx), params.id, body.user_id),
  }),
  defineRoute({
    method: 'get',
    path: '/organizers/:id/members',
    operationId: 'listOrganizerMembers',
    summary: 'List the members of an organizer (oldest first)',
    tags,
    params: organizerMemberParams,
    query: paginationQuery,
    responses: { 200: { description: 'Members', schema: z.array(organizerMember) }, 404: { description: 'Unknown organizer' } },
    handler: ({ params, query }) => listOrganizerMembers(catalog, params.id, query),
  }),
];
