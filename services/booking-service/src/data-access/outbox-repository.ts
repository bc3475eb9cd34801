import { context, propagation } from '@opentelemetry/api';
import type { Knex, TicketingEvent } from '@ticketing/platform';
import type { OutboxRow } from './rows';

export interface OutboxBacklog {
  rows: number;
  oldestAgeSeconds: number;
}

/** The outbox row of an event, carrying the current trace context for the relay's outbox.publish span. */
export function outboxRowOf(event: TicketingEvent) {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return {
    id: event.id,
    routing_key: event.type,
    payload: JSON.stringify(event),
    headers: JSON.stringify(headers),
    created_at: new Date(event.occurred_at),
  };
}

export function outboxRepository(db: Knex | Knex.Transaction) {
  async function addMany(events: TicketingEvent[]): Promise<void> {
    if (events.length === 0) return;
    await db('outbox').insert(events.map(outboxRowOf));
  }

  return {
    /** Stores the event with the current trace context, so the relay publishes it as part of this trace. */
    add: (event: TicketingEvent) => addMany([event]),
    addMany,
    /** Unpublished rows, oldest first, locked for this transaction; rows another relay holds are skipped. */
    async claimBatch(limit: number): Promise<OutboxRow[]> {
      return db<OutboxRow>('outbox')
        .whereNull('published_at')
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
        .limit(limit)
        .forUpdate()
        .skipLocked();
    },
    /** One statement for the whole batch. */
    async markPublished(ids: string[]): Promise<void> {
      if (ids.length) await db.raw('UPDATE outbox SET published_at = now() WHERE id = ANY(?::uuid[])', [ids]);
    },
    /** attempts + 1 and the row's own last_error, for the whole batch in one statement. */
    async markFailed(failures: Array<{ id: string; error: string }>): Promise<void> {
      if (failures.length === 0) return;
      await db.raw(
        `UPDATE outbox AS o SET attempts = o.attempts + 1, last_error = f.error
         FROM unnest(?::uuid[], ?::text[]) AS f(id, error)
         WHERE o.id = f.id`,
        [failures.map((failure) => failure.id), failures.map((failure) => failure.error.slice(0, 2_000))],
      );
    },
    async backlog(): Promise<OutboxBacklog> {
      const row = await db('outbox')
        .whereNull('published_at')
        .select(db.raw('count(*)::int AS rows'), db.raw('coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS oldest'))
        .first();
      return { rows: Number(row?.rows ?? 0), oldestAgeSeconds: Math.max(0, Number(row?.oldest ?? 0)) };
    },
  };
}

export type OutboxRepository = ReturnType<typeof outboxRepository>;
