import { randomUUID } from 'node:crypto';
import { createMockPaymentProvider, paymentScore } from '../src/domain/payment-provider';

const charge = (rate: number, paymentId: string) =>
  createMockPaymentProvider(rate).charge({ paymentId, reservationId: randomUUID(), amountCents: 10_000 });

describe('the mock payment provider', () => {
  it('approves every payment at rate 1 (the default) and declines every one at rate 0', async () => {
    for (let i = 0; i < 50; i++) {
      const id = randomUUID();
      expect((await charge(1, id)).approved).toBe(true);
      expect((await charge(0, id)).approved).toBe(false);
    }
  });

  it('gives the same answer for the same payment id every time', async () => {
    for (let i = 0; i < 50; i++) {
      const id = randomUUID();
      const first = await charge(0.5, id);
      for (let j = 0; j < 5; j++) expect(await charge(0.5, id)).toEqual(first);
    }
  });

  it('approves roughly the configured share of distinct payments', async () => {
    let approved = 0;
    for (let i = 0; i < 2_000; i++) if ((await charge(0.3, `payment-${i}`)).approved) approved += 1;
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
});
