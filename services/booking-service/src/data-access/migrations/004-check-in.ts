import type { Knex, Migration } from '@ticketing/platform';

/**
 * Check-in at the door: the gate and the door-staff member of a ticket's admission (used_at already records
 * when), a journal of every scan (online and offline, admitted or not) so staff can see who tried to enter
 * twice, and an index for a session's check-in list.
 */
export const checkIn: Migration = {
  name: '004-check-in',
  async up(db: Knex) {
    await db.schema.alterTable('tickets', (t) => {
      t.text('checked_in_gate').nullable();
      t.text('checked_in_by').nullable();
    });
    await db.raw('CREATE INDEX tickets_session_status_idx ON tickets (session_id, status)');

    await db.schema.createTable('check_in_scans', (t) => {
      t.uuid('id').primary();
      // Null when the code named no ticket we know (forged or garbled codes are journaled too).
      t.uuid('ticket_id').nullable();
      t.uuid('session_id').notNullable();
      t.text('gate').nullable();
      t.text('scanned_by').nullable();
      t.text('result').notNullable();
      t.text('source').notNullable();
      t.timestamp('scanned_at', { useTz: true }).notNullable();
      t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.index(['ticket_id']);
      t.index(['session_id', 'scanned_at']);
    });
    await db.raw(
      "ALTER TABLE check_in_scans ADD CONSTRAINT check_in_scans_result_check CHECK (result IN ('admitted','already_used','revoked','wrong_session','invalid_code'))",
    );
    await db.raw("ALTER TABLE check_in_scans ADD CONSTRAINT check_in_scans_source_check CHECK (source IN ('online','offline'))");
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('check_in_scans');
    await db.raw('DROP INDEX IF EXISTS tickets_session_status_idx');
    await db.schema.alterTable('tickets', (t) => {
      t.dropColumn('checked_in_by');
      t.dropColumn('checked_in_gate');
    });
  },
};
