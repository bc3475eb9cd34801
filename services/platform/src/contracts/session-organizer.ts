import { z } from 'zod';

/**
 * The internal session-organizer call (booking → event service), declared once for both sides: the event
 * service documents its answer with this schema, the booking service decodes it.
 */
export const sessionOrganizerSchema = z.object({
  session_id: z.guid(),
  organizer_id: z.guid(),
  member: z.boolean(),
});

/** Who organizes a session, and whether a given user is one of that organizer's members. */
export type SessionOrganizer = z.infer<typeof sessionOrganizerSchema>;
