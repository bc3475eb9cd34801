import { definePreparedStatement, type Knex } from '@ticketing/platform';
import type { PaymentRefundRow, PaymentRow } from '../domain/records';
import type { UnsettledPayment } from '../domain/store';

// Named prepared statements for the two writes every confirm makes; the rest stays on the query builder.
const startStatement = definePreparedStatement<{ id: string; reservationId: string; paymentId: string; amount: string }>(
  'booking.payments.start',
  `INSERT INTO payments (id, reservation_id, payment_id, amount, state) VALUES (:id, :reservationId, :paymentId, :amount, 'pending')`,
);

const markCapturedStatement = definePreparedStatement<{ id: string }>(
  'booking.payments.mark_captured',
  `UPDATE payments SET state = 'captured', captured_amount = amount, updated_at = now() WHERE id = :id AND state = 'authorized'`,
);

export function paymentRepository(db: Knex | Knex.Transaction) {
  const payments = () => db<PaymentRow>('payments');
  return {
    /** Journals a confirm attempt's payment before the provider is asked, so a crash cannot lose an authorization. */
    async start(payment: { id: string; reservationId: string; paymentId: string; amount: string }): Promise<void> {
      await startStatement.run(db, payment);
    },
    async findById(id: string): Promise<PaymentRow | undefined> {
      return payments().where({ id }).first();
    },
    async listByReservation(reservationId: string): Promise<PaymentRow[]> {
      return payments().where({ reservation_id: reservationId }).orderBy('created_at');
    },
    async markDeclined(id: string, reason: string): Promise<void> {
      await payments()
        .where({ id })
        .whereIn('state', ['pending', 'voiding'])
        .update({ state: 'declined', decline_reason: reason, updated_at: db.fn.now() } as never);
    },
    /** authorized → captured (the whole authorized amount). */
    async markCaptured(id: string): Promise<boolean> {
      const { rowCount } = await markCapturedStatement.run(db, { id });
      return rowCount === 1;
    },
    /** Any not yet settled state → voided, remembering the authorization that was voided. */
    async markVoided(id: string, authorizationId: string | null): Promise<boolean> {
      const count = await payments()
        .where({ id })
        .whereIn('state', ['pending', 'authorized', 'voiding'])
        .update({ state: 'voided', authorization_id: authorizationId, updated_at: db.fn.now() } as never);
      return count === 1;
    },
    /**
     * Payments older than `olderThanSeconds` that still owe the provider a call: pending/voiding ones (their
     * request died around the authorization) are claimed as `voiding`, so a late confirm of theirs can no
     * longer win; authorized ones come with `won` (the reservation is confirmed with this very payment).
     */
    async claimUnsettled(olderThanSeconds: number, limit: number): Promise<UnsettledPayment[]> {
      const { rows } = await db.raw<{ rows: UnsettledPayment[] }>(
        `UPDATE payments p SET state = CASE WHEN p.state = 'authorized' THEN 'authorized' ELSE 'voiding' END,
                updated_at = now()
         FROM (
           SELECT id FROM payments
           WHERE state IN ('pending', 'authorized', 'voiding') AND updated_at < now() - make_interval(secs => ?)
           ORDER BY updated_at
           LIMIT ?
           FOR UPDATE SKIP LOCKED
         ) stale
         WHERE p.id = stale.id
         RETURNING p.*, EXISTS (SELECT 1 FROM reservations r WHERE r.id = p.reservation_id AND r.payment_ref = p.id) AS won`,
        [olderThanSeconds, limit],
      );
      return rows;
    },

    /** Journals a ticket's refund (in the refund's transaction); the provider is asked after the commit. */
    async addRefund(refund: { id: string; paymentRowId: string; ticketId: string; amount: string }): Promise<void> {
      await db<PaymentRefundRow>('payment_refunds').insert({
        id: refund.id,
        payment_row_id: refund.paymentRowId,
        ticket_id: refund.ticketId,
        amount: refund.amount,
        state: 'pending',
      });
    },
    async findRefundByTicket(ticketId: string): Promise<PaymentRefundRow | undefined> {
      return db<PaymentRefundRow>('payment_refunds').where({ ticket_id: ticketId }).first();
    },
    /** pending → done, adding the amount to the payment's refunded total (refunded once all of it is). */
    async markRefunded(refundId: string, providerRefundId: string): Promise<boolean> {
      const { rows } = await db.raw<{ rows: unknown[] }>(
        `WITH done AS (
           UPDATE payment_refunds SET state = 'done', provider_refund_id = ?, updated_at = now()
           WHERE id = ? AND state = 'pending'
           RETURNING payment_row_id, amount
         )
         UPDATE payments p
         SET refunded_amount = p.refunded_amount + done.amount,
             state = CASE WHEN p.refunded_amount + done.amount >= p.captured_amount THEN 'refunded' ELSE p.state END,
             updated_at = now()
         FROM done WHERE p.id = done.payment_row_id
         RETURNING p.id`,
        [providerRefundId, refundId],
      );
      return rows.length === 1;
    },
    /** Refunds journaled longer ago than `olderThanSeconds` whose provider call has not succeeded yet. */
    async staleRefunds(olderThanSeconds: number, limit: number): Promise<Array<PaymentRefundRow & { authorization_id: string | null; payment_state: string }>> {
      return db('payment_refunds as r')
        .join('payments as p', 'p.id', 'r.payment_row_id')
        .where('r.state', 'pending')
        .where('r.updated_at', '<', db.raw('now() - make_interval(secs => ?)', [olderThanSeconds]))
        .orderBy('r.updated_at')
        .limit(limit)
        .select('r.*', 'p.authorization_id', 'p.state as payment_state');
    },
  };
}

