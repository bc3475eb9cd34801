import type { Knex, Migration } from '@ticketing/platform';

/**
 * Who owns the catalog:
 * - organizer_members: the users who manage an organizer (its creator first; members add members).
 * - locations.organizer_id: the organizer that created the venue (null for venues from before ownership,
 *   such as the demo seed's; only an admin may change those).
 * Events already name their organizer; halls and seats belong to their location's organizer.
 */
export const organizerOwnership: Migration = {
  name: '003-organizer-ownership',
  async up(db: Knex) {
    await db.raw(`
      CREATE TABLE organizer_members (
        organizer_id uuid NOT NULL REFERENCES organizers (id) ON DELETE CASCADE,
        user_id uuid NOT NULL,
        added_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organizer_id, user_id)
      );
      CREATE INDEX organizer_members_user_idx ON organizer_members (user_id);

      ALTER TABLE locations ADD COLUMN organizer_id uuid REFERENCES organizers (id);
      CREATE INDEX locations_organizer_idx ON locations (organizer_id);
    `);
  },
  async down(db: Knex) {
    await db.raw(`
      ALTER TABLE locations DROP COLUMN IF EXISTS organizer_id;
      DROP TABLE IF EXISTS organizer_members;
    `);
  },
};
