import type { Knex, Migration } from '@ticketing/platform';

/**
 * Money that moves once: one row per confirm attempt's payment (authorize → capture or void) and one per
 * ticket refund, each carrying the state a crash recovery needs; the session's start time on the reservation
 * (the refund cutoff); an index for the per-user seat cap.
 */
export const paymentsAndRefundCutoff: Migration = {
  name: '003-payments-and-refund-cutoff',
  async up(db: Knex) {
    await db.schema.alterTable('reservations', (t) => {
      // Null for reservations written before this migration: the cutoff then asks the event service.
      t.timestamp('session_starts_at', { useTz: true }).nullable();
      // The payments row that won the confirm: recovery captures exactly that one and voids the others.
      t.uuid('payment_ref').nullable();
    });
    // The seat cap counts a user's live holds in one session.
    await db.raw(
      "CREATE INDEX reservations_user_session_active_idx ON reservations (user_id, session_id) WHERE status = 'active'",
    );
    await db.raw('CREATE INDEX pending_holds_user_session_idx ON pending_holds (user_id, session_id) WHERE abandoned_at IS NULL');

    await db.schema.createTable('payments', (t) => {
      t.uuid('id').primary();
      t.uuid('reservation_id').notNullable().references('id').inTable('reservations').onDelete('CASCADE');
      t.text('payment_id').notNullable();
      t.text('authorization_id').nullable();
      t.decimal('amount', 12, 2).notNullable();
      t.decimal('captured_amount', 12, 2).notNullable().defaultTo(0);
      t.decimal('refunded_amount', 12, 2).notNullable().defaultTo(0);
      t.text('state').notNullable();
      t.text('decline_reason').nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.index(['reservation_id']);
    });
    await db.raw(
      "ALTER TABLE payments ADD CONSTRAINT payments_state_check CHECK (state IN ('pending','authorized','captured','voiding','voided','declined','refunded'))",
    );
    // Recovery looks only at payments that still owe a provider call.
    await db.raw("CREATE INDEX payments_unsettled_idx ON payments (updated_at) WHERE state IN ('pending','authorized','voiding')");

    await db.schema.createTable('payment_refunds', (t) => {
      t.uuid('id').primary();
      t.uuid('payment_row_id').notNullable().references('id').inTable('payments');
      t.uuid('ticket_id').notNullable().unique().references('id').inTable('tickets');
      t.decimal('amount', 12, 2).notNullable();
      t.text('state').notNullable();
      t.text('provider_refund_id').nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    });
    await db.raw("ALTER TABLE payment_refunds ADD CONSTRAINT payment_refunds_state_check CHECK (state IN ('pending','done'))");
    await db.raw("CREATE INDEX payment_refunds_pending_idx ON payment_refunds (updated_at) WHERE state = 'pending'");
  },
  async down(db: Knex) {
    await db.schema.dropTableIfExists('payment_refunds');
    await db.schema.dropTableIfExists('payments');
    await db.raw('DROP INDEX IF EXISTS pending_holds_user_session_idx');
    await db.raw('DROP INDEX IF EXISTS reservations_user_session_active_idx');
    await db.schema.alterTable('reservations', (t) => {
      t.dropColumn('payment_ref');
      t.dropColumn('session_starts_at');
    });
  },
};
