/**
 * Who may change which part of the catalog. With verified identity an organizer changes only what belongs to
 * it: the organizer itself (its members), its events and their sessions, and the venues it created (locations,
 * their halls and seats). An admin changes anything. Development's open catalog (actor `anyone`) checks nothing.
 * Reads are public and never come here.
 */
import { forbidden, hasRole, requireRole, type Actor } from '@ticketing/platform';

export interface OwnershipStore {
  isOrganizerMember(organizerId: string, userId: string): Promise<boolean>;
}

/** Anyone with the organizer (or admin) role may found an organizer; they become its first member. */
export function assertMayCreateOrganizer(actor: Actor): void {
  if (actor.kind === 'user') requireRole(actor.caller, 'organizer', 'admin');
}

/** 403 unless the actor manages the organizer (a member with the organizer role, or an admin). */
export async function assertManagesOrganizer(store: OwnershipStore, actor: Actor, organizerId: string): Promise<void> {
  if (actor.kind === 'anyone') return;
  const { caller } = actor;
  requireRole(caller, 'organizer', 'admin');
  if (hasRole(caller, 'admin')) return;
  if (!(await store.isOrganizerMember(organizerId, caller.userId))) {
    throw forbidden('This belongs to an organizer you are not a member of');
  }
}

/** A venue (location, its halls and seats) belongs to the organizer that created it; an unowned one to admins. */
export async function assertManagesVenue(
  store: OwnershipStore,
  actor: Actor,
  location: { organizer_id?: unknown },
): Promise<void> {
  if (actor.kind === 'anyone') return;
  requireRole(actor.caller, 'organizer', 'admin');
  if (hasRole(actor.caller, 'admin')) return;
  if (typeof location.organizer_id !== 'string') throw forbidden('Only an admin may change a venue no organizer owns');
  await assertManagesOrganizer(store, actor, location.organizer_id);
}

/** The user the actor names, if any (the first member of an organizer it creates). */
export const actorUserId = (actor: Actor): string | undefined =>
  actor.kind === 'user' ? actor.caller.userId : actor.userId;
