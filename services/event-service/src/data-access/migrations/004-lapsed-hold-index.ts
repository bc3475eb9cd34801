import type { Knex, Migration } from '@ticketing/platform';

/** Lets the consumer's lapsed-hold check find reserved seats by reserved_until without reading every seat. */
export const lapsedHoldIndex: Migration = {
  name: '003-lapsed-hold-index',
  async up(db: Knex) {
    await db.raw(`CREATE INDEX session_seats_reserved_until_idx ON session_seats (reserved_until) WHERE status = 'reserved'`);
  },
  async down(db: Knex) {
    await db.raw('DROP INDEX IF EXISTS session_seats_reserved_until_idx');
  },
};
