import { z } from 'zod';
import { QUEUE_TICKET_PATTERN } from '../domain/waiting-room-rules';
import { timestamp, uuid } from './common';

export const waitingRoomBody = z
  .object({
    opens_at: timestamp.meta({ description: 'When the queue opens: everyone who joined before gets a random place then' }),
    admission_rate_per_second: z.number().gt(0).max(10_000).meta({ description: 'Buyers admitted per second', example: 100 }),
    hold_window_seconds: z
      .number()
      .int()
      .min(10)
      .max(3_600)
      .meta({ description: 'How long an admitted buyer has to hold seats before the slot goes to the next one', example: 120 }),
  })
  .strict();

export const waitingRoomSchema = z.object({
  session_id: uuid,
  opens_at: timestamp,
  admission_rate_per_second: z.number(),
  hold_window_seconds: z.number().int(),
  state: z.enum(['WAITING_FOR_OPENING', 'OPEN', 'SOLD_OUT']),
});

export const queueTicketParams = z.object({
  ticket: z.string().regex(QUEUE_TICKET_PATTERN, 'must be a queue ticket from POST /sessions/{id}/queue'),
});

export const queueStatusSchema = z.object({
  queue_ticket: z.string(),
  session_id: uuid,
  status: z
    .enum(['WAITING_FOR_OPENING', 'QUEUED', 'ADMITTED', 'SOLD_OUT', 'NOT_IN_QUEUE'])
    .meta({ description: 'NOT_IN_QUEUE: admitted earlier and the hold window passed; join again for a new place' }),
  position: z.number().int().nullable().meta({ description: '1 = admitted next; null before the opening draw' }),
  ahead: z.number().int().nullable(),
  waiting: z.number().int(),
  estimated_wait_seconds: z.number().int().nullable(),
  opens_at: timestamp,
  admission_rate_per_second: z.number(),
  admission: z
    .object({ token: z.string(), expires_at: timestamp })
    .nullable()
    .meta({ description: 'Once ADMITTED: send token as X-Queue-Admission with POST /reservations before expires_at' }),
});
