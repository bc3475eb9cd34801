import type { Knex, Migration } from '@ticketing/platform';

/**
 * What the consumer needs to apply every message exactly once and in any order:
 * - processed_messages: ids of applied messages (inserted in the same transaction as the change).
 * - refunded_seats: every refund ever received, so a reservation.confirmed that arrives after its
 *   ticket.refunded can never sell the refunded seat again.
 */
export const messageBookkeeping: Migration = {
  name: '002-message-bookkeeping',
  async up(db: Knex) {
    await db.raw(`
      CREATE TABLE processed_messages (
        message_id uuid PRIMARY KEY,
        routing_key text NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX processed_messages_processed_at_idx ON processed_messages (processed_at);

      CREATE TABLE refunded_seats (
        reservation_id uuid NOT NULL,
        session_seat_id uuid NOT NULL,
        session_id uuid NOT NULL,
        ticket_id uuid,
        message_id uuid NOT NULL,
        refunded_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (reservation_id, session_seat_id)
      );
    `);
  },
  async down(db: Knex) {
    await db.raw(`
      DROP TABLE IF EXISTS refunded_seats;
      DROP TABLE IF EXISTS processed_messages;
    `);
  },
};
