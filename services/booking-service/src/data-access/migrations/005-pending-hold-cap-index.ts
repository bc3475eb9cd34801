import type { Knex, Migration } from '@ticketing/platform';

/**
 * The seat cap counts a user's live pending holds in a session on every hold: an index for exactly that, so
 * the count does not read the journal's every page (it is small but churns: one insert and one delete per
 * reservation, dead rows until a vacuum).
 */
export const pendingHoldCapIndex: Migration = {
  name: '005-pending-hold-cap-index',
  async up(db: Knex) {
    await db.raw('CREATE INDEX pending_holds_user_session_live_idx ON pending_holds (user_id, session_id) WHERE abandoned_at IS NULL');
  },
  async down(db: Knex) {
    await db.raw('DROP INDEX IF EXISTS pending_holds_user_session_live_idx');
  },
};
