import { createHash } from 'node:crypto';

export interface PaymentRequest {
  paymentId: string;
  reservationId: string;
  amountCents: number;
}

export type PaymentResult = { approved: true } | { approved: false; reason: string };

/** What confirm needs from a payment provider. The real one would be an HTTP client; this is the mock. */
export interface PaymentProvider {
  charge(request: PaymentRequest): Promise<PaymentResult>;
}

/**
 * Mock provider: approves a share `successRate` (0..1) of payments. The decision is a pure function of
 * the payment id (its SHA-256 mapped to [0, 1)), so retrying the same payment always gets the same answer.
 */
export function createMockPaymentProvider(successRate: number): PaymentProvider {
  if (!(successRate >= 0 && successRate <= 1)) throw new RangeError(`successRate must be within 0..1, got ${successRate}`);
  return {
    async charge(request) {
      return paymentScore(request.paymentId) < successRate
        ? { approved: true }
        : { approved: false, reason: 'Payment declined by the (mock) payment provider' };
    },
  };
}

/** A stable number in [0, 1) for a payment id. */
export function paymentScore(paymentId: string): number {
  const digest = createHash('sha256').update(paymentId, 'utf8').digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
