import { randomUUID } from 'node:crypto';
import { createMockPaymentProvider, paymentScore, PaymentProviderError } from '../src/domain/payment-provider';

const authorize = (rate: number, paymentId: string) =>
  createMockPaymentProvider(rate).authorize({ idempotencyKey: randomUUID(), paymentId, reservationId: randomUUID(), amountCents: 10_000 });

describe('the mock payment provider', () => {
  it('approves every payment at rate 1 (the default) and declines every one at rate 0', async () => {
    for (let i = 0; i < 50; i++) {
      const id = randomUUID();
      expect((await authorize(1, id)).approved).toBe(true);
      expect((await authorize(0, id)).approved).toBe(false);
    }
  });

  it('gives the same decision for the same payment id every time', async () => {
    for (let i = 0; i < 50; i++) {
      const id = randomUUID();
      const first = (await authorize(0.5, id)).approved;
      for (let j = 0; j < 5; j++) expect((await authorize(0.5, id)).approved).toBe(first);
    }
  });

  it('approves roughly the configured share of distinct payments', async () => {
    let approved = 0;
    for (let i = 0; i < 2_000; i++) if ((await authorize(0.3, `payment-${i}`)).approved) approved += 1;
    expect(approved / 2_000).toBeGreaterThan(0.25);
    expect(approved / 2_000).toBeLessThan(0.35);
  });

  it('maps payment ids into [0, 1)', () => {
    for (let i = 0; i < 100; i++) {
      const score = paymentScore(randomUUID());
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThan(1);
    }
  });

  it('refuses a rate outside 0..1', () => {
    expect(() => createMockPaymentProvider(1.5)).toThrow(RangeError);
    expect(() => createMockPaymentProvider(-0.1)).toThrow(RangeError);
  });

  test('when a call is repeated with the same idempotency key, then it answers the same and moves no money again', async () => {
    const provider = createMockPaymentProvider(1);
    const reservationId = randomUUID();
    const request = { idempotencyKey: 'authorize:1', paymentId: 'pm_1', reservationId, amountCents: 5_000 };
    const first = await provider.authorize(request);
    expect(await provider.authorize(request)).toEqual(first);
    if (!first.approved) throw new Error('expected approval');
    const capture = { idempotencyKey: 'capture:1', authorizationId: first.authorizationId, amountCents: 5_000 };
    await provider.capture(capture);
    await provider.capture(capture);
    const refund = { idempotencyKey: 'refund:t1', authorizationId: first.authorizationId, amountCents: 2_000 };
    expect(await provider.refund(refund)).toEqual(await provider.refund(refund));
    expect(provider.totals(reservationId)).toMatchObject({ authorizations: 1, captures: 1, capturedCents: 5_000, refunds: 1, refundedCents: 2_000 });
  });

  test('when an authorization was captured, then it cannot be voided, captured again under a new key or over-refunded', async () => {
    const provider = createMockPaymentProvider(1);
    const auth = await provider.authorize({ idempotencyKey: 'a', paymentId: 'pm', reservationId: randomUUID(), amountCents: 1_000 });
    if (!auth.approved) throw new Error('expected approval');
    await provider.capture({ idempotencyKey: 'c1', authorizationId: auth.authorizationId, amountCents: 1_000 });
    await expect(provider.capture({ idempotencyKey: 'c2', authorizationId: auth.authorizationId, amountCents: 1_000 })).rejects.toThrow(PaymentProviderError);
    await expect(provider.void({ idempotencyKey: 'v', authorizationId: auth.authorizationId })).rejects.toThrow(PaymentProviderError);
    await expect(provider.refund({ idempotencyKey: 'r', authorizationId: auth.authorizationId, amountCents: 1_001 })).rejects.toThrow(PaymentProviderError);
  });

  test('when an authorization was voided, then it cannot be captured and holds no funds', async () => {
    const provider = createMockPaymentProvider(1);
    const reservationId = randomUUID();
    const auth = await provider.authorize({ idempotencyKey: 'a', paymentId: 'pm', reservationId, amountCents: 1_000 });
    if (!auth.approved) throw new Error('expected approval');
    expect(provider.totals(reservationId).openAuthorizations).toBe(1);
    await provider.void({ idempotencyKey: 'v', authorizationId: auth.authorizationId });
    await expect(provider.capture({ idempotencyKey: 'c', authorizationId: auth.authorizationId, amountCents: 1_000 })).rejects.toThrow(PaymentProviderError);
    expect(provider.totals(reservationId)).toMatchObject({ voids: 1, captures: 0, openAuthorizations: 0 });
  });
});
