import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/** Routing keys of the `ticketing_events` exchange (the contract's "Messages"). */
export const ROUTING_KEYS = [
  'reservation.confirmed',
  'reservation.expired',
  'reservation.cancelled',
  'ticket.refunded',
] as const;

export type RoutingKey = (typeof ROUTING_KEYS)[number];

export const ticketingEventSchema = z.object({
  id: z.guid(),
  type: z.enum(ROUTING_KEYS),
  occurred_at: z.iso.datetime({ offset: true }),
  data: z
    .object({
      reservation_id: z.guid(),
      session_id: z.guid(),
      user_id: z.guid(),
      session_seat_ids: z.array(z.guid()).min(1),
      /** The original system's name for session_seat_ids (same values), for subscribers written against it. */
      seat_ids: z.array(z.guid()).optional(),
    })
    .loose(),
});

export type TicketingEvent = z.infer<typeof ticketingEventSchema>;
export type TicketingEventData = TicketingEvent['data'];

/** Builds an event; `data.seat_ids` always repeats `session_seat_ids` for the original system's subscribers. */
export function createTicketingEvent(
  type: RoutingKey,
  data: TicketingEventData,
  occurredAt = new Date(),
): TicketingEvent {
  const seatIds: string[] = [...data.session_seat_ids];
  return { id: randomUUID(), type, occurred_at: occurredAt.toISOString(), data: { ...data, seat_ids: seatIds } };
}
