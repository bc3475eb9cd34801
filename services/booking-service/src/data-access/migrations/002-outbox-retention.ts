import type { Knex, Migration } from '@ticketing/platform';

/** Published outbox rows are purged after OUTBOX_RETENTION_HOURS; this index finds the old ones. */
export const outboxRetention: Migration = {
  name: '002-outbox-retention',
  async up(db: Knex) {
    await db.raw('CREATE INDEX outbox_published_at_idx ON outbox (published_at) WHERE published_at IS NOT NULL');
  },
  async down(db: Knex) {
    await db.raw('DROP INDEX IF EXISTS outbox_published_at_idx');
  },
};
