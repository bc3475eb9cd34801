import type { Knex, Migration } from '@ticketing/platform';

/**
 * Price tiers, reservations with their items, tickets, the outbox, idempotency keys and the hold journal.
 * Money is NUMERIC(12,2) (never floats); multipliers NUMERIC(5,4).
 */
export const initialSchema: Migration = {
  name: '001-initial-schema',
  async up(db: Knex) {
    await db.schema.createTable('price_tiers', (t) => {
      t.uuid('id').primary();
      t.uuid('session_id').nullable().index();
      t.text('name').notNullable();
      t.decimal('multiplier', 5, 4).notNullable();
      t.text('description').nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
    });
    await db.raw('ALTER TABLE price_tiers ADD CONSTRAINT price_tiers_multiplier_range CHECK (multiplier > 0 AND multiplier <= 1)');

    await db.schema.createTable('reservations', (t) => {
      t.uuid('id').primary();
      t.uuid('user_id').notNullable();
      t.uuid('session_id').notNullable();
      t.timestamp('booking_time', { useTz: true }).notNullable();
      t.timestamp('expiry_time', { useTz: true }).notNullable();
      t.integer('seats_count').notNullable();
      t.decimal('total_amount', 12, 2).notNullable();
      t.text('status').notNullable();
      t.text('payment_id').nullable();
      t.timestamp('confirmed_at', { useTz: true }).nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.index(['user_id', 'created_at']);
    });
    await db.raw(
      "ALTER TABLE reservations ADD CONSTRAINT reservations_status_check CHECK (status IN ('active','confirmed','expired','cancelled','refunded'))",
    );
    // The expiry sweep only ever looks at active holds.
    await db.raw("CREATE INDEX reservations_active_expiry_idx ON reservations (expiry_time) WHERE status = 'active'");

    await db.schema.createTable('reservation_items', (t) => {
      t.uuid('id').primary();
      t.uuid('reservation_id').notNullable().references('id').inTable('reservations').onDelete('CASCADE');
      t.uuid('session_seat_id').notNullable();
      t.uuid('seat_id').nullable();
      t.text('row_number').notNullable();
      t.text('seat_number').notNullable();
      t.text('seat_type').nullable();
      t.decimal('price', 12, 2).notNullable();
      t.decimal('discount_amount', 12, 2).notNullable();
      t.decimal('final_price', 12, 2).notNullable();
      t.uuid('price_tier_id').nullable().references('id').inTable('price_tiers');
      t.integer('position').notNullable();
      t.unique(['reservation_id', 'session_seat_id']);
    });

    await db.schema.createTable('tickets', (t) => {
      t.uuid('id').primary();
      t.uuid('reservation_id').notNullable().references('id').inTable('reservations').onDelete('CASCADE');
      t.uuid('reservation_item_id').notNullable().unique().references('id').inTable('reservation_items');
      t.uuid('user_id').notNullable();
      t.uuid('session_id').notNullable();
      t.uuid('session_seat_id').notNullable();
      t.text('row_number').notNullable();
      t.text('seat_number').notNullable();
      t.decimal('price', 12, 2).notNullable();
      t.text('status').notNullable();
      t.text('ticket_code').notNullable().unique();
      t.binary('qr_png').notNullable();
      t.timestamp('refunded_at', { useTz: true }).nullable();
      t.timestamp('used_at', { useTz: true }).nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.index(['user_id', 'created_at']);
      t.index(['reservation_id']);
    });
    await db.raw("ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN ('active','used','refunded'))");

    await db.schema.createTable('outbox', (t) => {
      t.uuid('id').primary();
      t.text('routing_key').notNullable();
      t.jsonb('payload').notNullable();
      t.jsonb('headers').notNullable().defaultTo('{}');
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('published_at', { useTz: true }).nullable();
      t.integer('attempts').notNullable().defaultTo(0);
      t.text('last_error').nullable();
    });
    await db.raw('CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL');

    await db.schema.createTable('idempotency_keys', (t) => {
      t.uuid('user_id').notNullable();
      t.text('key').notNullable();
      t.text('request_hash').notNullable();
      t.uuid('reservation_id').notNullable();
      t.integer('response_status').nullable();
      t.jsonb('response_body').nullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      t.primary(['user_id', 'key']);
    });

    // A hold the event service may have placed but whose reservation is not written yet. Deleted in the
    // transaction that writes the reservation (or when the hold is known not to exist); a row that outlives
    // its request (crash between hold and commit) is swept and its hold released via reservation.expired.
    await db.schema.createTable('pending_holds', (t) => {
      t.uuid('reservation_id').primary();
      t.uuid('user_id').notNullable();
      t.uuid('session_id').notNullable();
      t.specificType('session_seat_ids', 'uuid[]').notNullable();
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(db.fn.now());
      // Set when the sweep gave up on the hold and asked for its release; the id is never reused after that.
      t.timestamp('abandoned_at', { useTz: true }).nullable();
    });
    await db.raw('CREATE INDEX pending_holds_live_created_idx ON pending_holds (created_at) WHERE abandoned_at IS NULL');
  },
  async down(db: Knex) {
    for (const table of ['pending_holds', 'idempotency_keys', 'outbox', 'tickets', 'reservation_items', 'reservations', 'price_tiers']) {
      await db.schema.dropTableIfExists(table);
    }
  },
};
