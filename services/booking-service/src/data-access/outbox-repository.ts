import { context, propagation } from '@opentelemetry/api';
import { definePreparedStatement, type Knex, type TicketingEvent } from '@ticketing/platform';
import type { OutboxRow } from '../domain/records';
import type { OutboxBacklog } from '../domain/store';

// Named prepared statements for the relay's every pass and the expiry sweep's batches.
/** Any number of rows in one statement text (arrays, not a VALUES list that changes with the count). */
const addManyStatement = definePreparedStatement<{
  ids: string[];
  routingKeys: string[];
  payloads: string[];
  headers: string[];
  createdAt: Date[];
}>(
  'booking.outbox.add_many',
  `INSERT INTO outbox (id, routing_key, payload, headers, created_at)
   SELECT * FROM unnest(:ids::uuid[], :routingKeys::text[], :payloads::jsonb[], :headers::jsonb[], :createdAt::timestamptz[])`,
);

const claimBatchStatement = definePreparedStatement<{ limit: number }, OutboxRow>(
  'booking.outbox.claim_batch',
  `SELECT * FROM outbox
   WHERE published_at IS NULL
   ORDER BY created_at, id
   LIMIT :limit
   FOR UPDATE SKIP LOCKED`,
);

const markPublishedStatement = definePreparedStatement<{ ids: string[] }>(
  'booking.outbox.mark_published',
  'UPDATE outbox SET published_at = now() WHERE id = ANY(:ids::uuid[])',
);

const markFailedStatement = definePreparedStatement<{ ids: string[]; errors: string[] }>(
  'booking.outbox.mark_failed',
  `UPDATE outbox AS o SET attempts = o.attempts + 1, last_error = f.error
   FROM unnest(:ids::uuid[], :errors::text[]) AS f(id, error)
   WHERE o.id = f.id`,
);

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
    const rows = events.map(outboxRowOf);
    await addManyStatement.run(db, {
      ids: rows.map((row) => row.id),
      routingKeys: rows.map((row) => row.routing_key),
      payloads: rows.map((row) => row.payload),
      headers: rows.map((row) => row.headers),
      createdAt: rows.map((row) => row.created_at),
    });
  }

  return {
    /** Stores the event with the current trace context, so the relay publishes it as part of this trace. */
    add: (event: TicketingEvent) => addMany([event]),
    addMany,
    /** Deletes up to `limit` rows published more than `olderThanSeconds` ago, oldest first; returns how many. */
    async purgePublished(olderThanSeconds: number, limit: number): Promise<number> {
      const { rowCount } = await db.raw(
        `DELETE FROM outbox WHERE id IN (
           SELECT id FROM outbox
            WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => ?)
            ORDER BY published_at
            LIMIT ?)`,
        [olderThanSeconds, limit],
      );
      return rowCount ?? 0;
    },
    /** Unpublished rows, oldest first, locked for this transaction; rows another relay holds are skipped. */
    async claimBatch(limit: number): Promise<OutboxRow[]> {
      const { rows } = await claimBatchStatement.run(db, { limit });
      return rows;
    },
    /** One statement for the whole batch. */
    async markPublished(ids: string[]): Promise<void> {
      if (ids.length) await markPublishedStatement.run(db, { ids });
    },
    /** attempts + 1 and the row's own last_error, for the whole batch in one statement. */
    async markFailed(failures: Array<{ id: string; error: string }>): Promise<void> {
      if (failures.length === 0) return;
      await markFailedStatement.run(db, {
        ids: failures.map((failure) => failure.id),
        errors: failures.map((failure) => failure.error.slice(0, 2_000)),
      });
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

