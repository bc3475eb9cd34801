import { toCents, type Logger } from '@ticketing/platform';
import type { BookingStore } from './store';
import type { PaymentRefundRow, PaymentRow } from './records';
import type { PaymentProvider } from './payment-provider';

/**
 * The provider calls of a payment's life, each with an idempotency key derived from the payment row (one
 * row per confirm attempt) or the ticket, so a retry by the request, a replay or the recovery sweep repeats
 * the same call instead of moving money again.
 */
export const providerKeys = {
  authorize: (paymentRowId: string) => `authorize:${paymentRowId}`,
  capture: (paymentRowId: string) => `capture:${paymentRowId}`,
  void: (paymentRowId: string) => `void:${paymentRowId}`,
  refund: (ticketId: string) => `refund:${ticketId}`,
};

interface PaymentDeps {
  store: BookingStore;
  payments: PaymentProvider;
  logger: Logger;
}

/** Captures the winning payment's authorization (the order total) and records it; safe to repeat. */
export async function capturePayment(
  deps: PaymentDeps,
  payment: Pick<PaymentRow, 'id' | 'amount'> & { authorization_id: string },
): Promise<void> {
  await deps.payments.capture({
    idempotencyKey: providerKeys.capture(payment.id),
    authorizationId: payment.authorization_id,
    amountCents: toCents(payment.amount),
  });
  await deps.store.payments.markCaptured(payment.id);
}

/** Voids a losing attempt's authorization and records it; safe to repeat. */
export async function voidPayment(deps: PaymentDeps, paymentRowId: string, authorizationId: string): Promise<void> {
  await deps.payments.void({ idempotencyKey: providerKeys.void(paymentRowId), authorizationId });
  await deps.store.payments.markVoided(paymentRowId, authorizationId);
}

/** Sends a journaled ticket refund to the provider and records it done; safe to repeat. */
export async function sendRefund(deps: PaymentDeps, refund: PaymentRefundRow, authorizationId: string): Promise<void> {
  const { refundId } = await deps.payments.refund({
    idempotencyKey: providerKeys.refund(refund.ticket_id),
    authorizationId,
    amountCents: toCents(refund.amount),
  });
  await deps.store.payments.markRefunded(refund.id, refundId);
}

export interface PaymentRecoveryResult {
  captured: number;
  voided: number;
  refunded: number;
  failed: number;
}

/**
 * Finishes what a crashed or failed request left owing the provider, for payments and refunds older than
 * `graceSeconds` (no request can still be working on them): the winning payment of a confirmed reservation
 * is captured, every other authorization is voided (an attempt that died around its authorization is
 * re-authorized with the same idempotency key, which returns the same authorization, then voided), and
 * journaled refunds are sent. Every call repeats its original idempotency key, so nothing moves twice.
 */
export async function recoverPayments(
  deps: PaymentDeps,
  settings: { graceSeconds: number; batchSize: number },
): Promise<PaymentRecoveryResult> {
  const result: PaymentRecoveryResult = { captured: 0, voided: 0, refunded: 0, failed: 0 };
  for (const payment of await deps.store.payments.claimUnsettled(settings.graceSeconds, settings.batchSize)) {
    try {
      if (payment.state === 'authorized' && payment.won && payment.authorization_id) {
        await capturePayment(deps, { ...payment, authorization_id: payment.authorization_id });
        result.captured += 1;
        continue;
      }
      let authorizationId = payment.authorization_id;
      if (!authorizationId) {
        const authorization = await deps.payments.authorize({
          idempotencyKey: providerKeys.authorize(payment.id),
          paymentId: payment.payment_id,
          reservationId: payment.reservation_id,
          amountCents: toCents(payment.amount),
        });
        if (!authorization.approved) {
          await deps.store.payments.markDeclined(payment.id, authorization.reason);
          continue;
        }
        authorizationId = authorization.authorizationId;
      }
      await voidPayment(deps, payment.id, authorizationId);
      result.voided += 1;
    } catch (error) {
      result.failed += 1;
      deps.logger.error({ err: error, payment_row_id: payment.id }, 'Payment recovery failed; the next sweep retries it');
    }
  }
  for (const refund of await deps.store.payments.staleRefunds(settings.graceSeconds, settings.batchSize)) {
    // A refund of a payment whose capture is still owed waits for the capture above to happen first.
    if (refund.payment_state !== 'captured' || !refund.authorization_id) continue;
    try {
      await sendRefund(deps, refund, refund.authorization_id);
      result.refunded += 1;
    } catch (error) {
      result.failed += 1;
      deps.logger.error({ err: error, ticket_id: refund.ticket_id }, 'Refund recovery failed; the next sweep retries it');
    }
  }
  if (result.captured || result.voided || result.refunded || result.failed) deps.logger.warn(result, 'Recovered payments');
  return result;
}
