import { forbidden, hasRole, notFound, requireRole, serviceUnavailable, type Actor } from '@ticketing/platform';
import {
  EventServiceRejectedError,
  EventServiceUnavailableError,
  type EventServiceClient,
} from './event-service';

/**
 * 403 unless the actor organizes the session (or is an admin). Membership is the event service's to know
 * (`/api/internal/sessions/{id}/organizer`); development's open catalog (actor `anyone`) checks nothing.
 */
export async function assertOrganizesSession(
  eventService: Pick<EventServiceClient, 'sessionOrganizer'>,
  actor: Actor,
  sessionId: string,
  refusal: string,
): Promise<void> {
  if (actor.kind === 'anyone') return;
  const { caller } = actor;
  if (hasRole(caller, 'admin')) return;
  requireRole(caller, 'organizer', 'admin');
  const owner = await sessionOrganizer(eventService, sessionId, caller.userId);
  if (!owner.member) throw forbidden(refusal);
}

async function sessionOrganizer(eventService: Pick<EventServiceClient, 'sessionOrganizer'>, sessionId: string, userId: string) {
  try {
    return await eventService.sessionOrganizer(sessionId, userId);
  } catch (error) {
    if (error instanceof EventServiceRejectedError && error.status === 404) throw notFound('Session', sessionId);
    if (error instanceof EventServiceUnavailableError || error instanceof EventServiceRejectedError) {
      throw serviceUnavailable('EVENT_SERVICE_UNAVAILABLE', 'The event service is unavailable, try again shortly');
    }
    throw error;
  }
}
