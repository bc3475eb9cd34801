import { createHash, randomUUID } from 'node:crypto';

/**
 * What the booking service needs from a payment provider: manual-capture payments. A confirm first
 * *authorizes* the order total (the buyer's funds are held, nothing is charged), then — only if it won the
 * conditional confirm — *captures* it; a confirm that lost (409, 410, any failure after the authorization)
 * *voids* its authorization; a ticket refund *refunds* part of a captured payment.
 *
 * Every call carries an idempotency key: repeating a call with the same key (a retry after a timeout, the
 * recovery sweep after a crash) returns the first call's result and moves no money again. With Stripe this
 * maps to PaymentIntents with `capture_method=manual` (`authorize` = create + confirm the intent for the
 * buyer's payment method `payment_id`, `capture` = `/capture`, `void` = `/cancel`, `refund` = `/refunds`
 * with `payment_intent`), each request sent with the `Idempotency-Key` header. See docs/payments.md.
 */
export interface PaymentProvider {
  authorize(request: AuthorizeRequest): Promise<Authorization>;
  capture(request: CaptureRequest): Promise<void>;
  void(request: VoidRequest): Promise<void>;
  refund(request: RefundRequest): Promise<{ refundId: string }>;
  /** A payment id for a confirm that did not bring one (the original clients confirm without a body). */
  newPaymentId(): string;
}

export interface AuthorizeRequest {
  idempotencyKey: string;
  /** The buyer's payment (method) reference, as the client sent it or as newPaymentId() made it. */
  paymentId: string;
  reservationId: string;
  amountCents: number;
}

export type Authorization = { approved: true; authorizationId: string } | { approved: false; reason: string };

export interface CaptureRequest {
  idempotencyKey: string;
  authorizationId: string;
  amountCents: number;
}

export interface VoidRequest {
  idempotencyKey: string;
  authorizationId: string;
}

export interface RefundRequest {
  idempotencyKey: string;
  authorizationId: string;
  amountCents: number;
}

/** A provider call that failed (network, 5xx, or a state the provider refuses): the caller may retry it with the same key. */
export class PaymentProviderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentProviderError';
  }
}

export type LedgerEntryKind = 'authorize' | 'decline' | 'capture' | 'void' | 'refund';

export interface LedgerEntry {
  kind: LedgerEntryKind;
  authorizationId?: string;
  reservationId?: string;
  amountCents: number;
}

interface MockAuthorization {
  id: string;
  reservationId: string;
  amountCents: number;
  state: 'authorized' | 'captured' | 'voided';
  capturedCents: number;
  refundedCents: number;
}

/** The mock provider, with the ledger tests count (every money movement it performed, once per idempotency key). */
export interface MockPaymentProvider extends PaymentProvider {
  readonly ledger: readonly LedgerEntry[];
  /** Totals of the ledger, optionally for one reservation. */
  totals(reservationId?: string): LedgerTotals;
}

export interface LedgerTotals {
  authorizations: number;
  declines: number;
  captures: number;
  voids: number;
  refunds: number;
  capturedCents: number;
  refundedCents: number;
  /** Authorizations neither captured nor voided: funds still held on the buyer's card. */
  openAuthorizations: number;
}

/**
 * Mock provider, in memory: approves a share `successRate` (0..1) of payments. The decision is a pure
 * function of the payment id (its SHA-256 mapped to [0, 1)), so retrying the same payment always gets the
 * same answer. Enforces what a real provider enforces: capture or void once per authorization, never both,
 * never capture more than authorized nor refund more than captured; replays by idempotency key.
 */
export function createMockPaymentProvider(successRate: number): MockPaymentProvider {
  if (!(successRate >= 0 && successRate <= 1)) throw new RangeError(`successRate must be within 0..1, got ${successRate}`);
  const ledger: LedgerEntry[] = [];
  const authorizations = new Map<string, MockAuthorization>();
  const replies = new Map<string, unknown>();

  async function once<T>(key: string, perform: () => T): Promise<T> {
    if (replies.has(key)) return replies.get(key) as T;
    const reply = perform();
    replies.set(key, reply);
    return reply;
  }
  const authorizationOf = (id: string) => {
    const found = authorizations.get(id);
    if (!found) throw new PaymentProviderError(`Unknown authorization ${id}`);
    return found;
  };

  return {
    ledger,
    authorize: (request) =>
      once(`authorize:${request.idempotencyKey}`, (): Authorization => {
        if (paymentScore(request.paymentId) >= successRate) {
          ledger.push({ kind: 'decline', reservationId: request.reservationId, amountCents: request.amountCents });
          return { approved: false, reason: 'Payment declined by the (mock) payment provider' };
        }
        const id = `auth_${randomUUID()}`;
        authorizations.set(id, {
          id,
          reservationId: request.reservationId,
          amountCents: request.amountCents,
          state: 'authorized',
          capturedCents: 0,
          refundedCents: 0,
        });
        ledger.push({ kind: 'authorize', authorizationId: id, reservationId: request.reservationId, amountCents: request.amountCents });
        return { approved: true, authorizationId: id };
      }),
    capture: (request) =>
      once(`capture:${request.idempotencyKey}`, () => {
        const auth = authorizationOf(request.authorizationId);
        if (auth.state !== 'authorized') throw new PaymentProviderError(`Cannot capture a ${auth.state} authorization`);
        if (request.amountCents > auth.amountCents) throw new PaymentProviderError('Capture exceeds the authorized amount');
        auth.state = 'captured';
        auth.capturedCents = request.amountCents;
        ledger.push({ kind: 'capture', authorizationId: auth.id, reservationId: auth.reservationId, amountCents: request.amountCents });
      }),
    void: (request) =>
      once(`void:${request.idempotencyKey}`, () => {
        const auth = authorizationOf(request.authorizationId);
        if (auth.state === 'voided') return;
        if (auth.state !== 'authorized') throw new PaymentProviderError(`Cannot void a ${auth.state} authorization`);
        auth.state = 'voided';
        ledger.push({ kind: 'void', authorizationId: auth.id, reservationId: auth.reservationId, amountCents: auth.amountCents });
      }),
    refund: (request) =>
      once(`refund:${request.idempotencyKey}`, () => {
        const auth = authorizationOf(request.authorizationId);
        if (auth.state !== 'captured') throw new PaymentProviderError(`Cannot refund a ${auth.state} authorization`);
        if (auth.refundedCents + request.amountCents > auth.capturedCents) throw new PaymentProviderError('Refund exceeds the captured amount');
        auth.refundedCents += request.amountCents;
        ledger.push({ kind: 'refund', authorizationId: auth.id, reservationId: auth.reservationId, amountCents: request.amountCents });
        return { refundId: `re_${randomUUID()}` };
      }),
    newPaymentId: () => `pay_${randomUUID()}`,
    totals(reservationId) {
      const entries = reservationId ? ledger.filter((entry) => entry.reservationId === reservationId) : ledger;
      const count = (kind: LedgerEntryKind) => entries.filter((entry) => entry.kind === kind).length;
      const sum = (kind: LedgerEntryKind) => entries.filter((entry) => entry.kind === kind).reduce((total, entry) => total + entry.amountCents, 0);
      const open = [...authorizations.values()].filter(
        (auth) => auth.state === 'authorized' && (!reservationId || auth.reservationId === reservationId),
      );
      return {
        authorizations: count('authorize'),
        declines: count('decline'),
        captures: count('capture'),
        voids: count('void'),
        refunds: count('refund'),
        capturedCents: sum('capture'),
        refundedCents: sum('refund'),
        openAuthorizations: open.length,
      };
    },
  };
}

/**
 * The provider with every call counted by operation and result (`report`), for the metrics; the calls go to
 * `provider` as it is at call time.
 */
export function meteredPaymentProvider(
  provider: PaymentProvider,
  report: (operation: 'authorize' | 'capture' | 'void' | 'refund', result: 'ok' | 'declined' | 'failed') => void,
): PaymentProvider {
  const metered = async <T>(operation: 'capture' | 'void' | 'refund', call: () => Promise<T>): Promise<T> => {
    try {
      const result = await call();
      report(operation, 'ok');
      return result;
    } catch (error) {
      report(operation, 'failed');
      throw error;
    }
  };
  return {
    async authorize(request) {
      try {
        const result = await provider.authorize(request);
        report('authorize', result.approved ? 'ok' : 'declined');
        return result;
      } catch (error) {
        report('authorize', 'failed');
        throw error;
      }
    },
    capture: (request) => metered('capture', () => provider.capture(request)),
    void: (request) => metered('void', () => provider.void(request)),
    refund: (request) => metered('refund', () => provider.refund(request)),
    newPaymentId: () => provider.newPaymentId(),
  };
}

/** A stable number in [0, 1) for a payment id. */
export function paymentScore(paymentId: string): number {
  const digest = createHash('sha256').update(paymentId, 'utf8').digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}
