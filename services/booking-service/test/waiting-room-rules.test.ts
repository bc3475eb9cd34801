import { randomUUID } from 'node:crypto';
import {
  admissionSlots,
  admissionsEarned,
  checkAdmissionToken,
  fairStartOrder,
  parseQueueTicket,
  queueTicketOf,
  signAdmissionToken,
} from '../src/domain/waiting-room-rules';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

describe('fair start order', () => {
  it('when buyers joined before the opening, then the drawn order is a permutation of them', () => {
    const joined = Array.from({ length: 500 }, (_, i) => `user-${i}`);
    const order = fairStartOrder(joined);
    expect(order).toHaveLength(joined.length);
    expect(new Set(order)).toEqual(new Set(joined));
    expect(order).not.toEqual(joined);
  });

  it('when drawn many times, then the first joiner lands at every place about equally often (joining first gains nothing)', () => {
    const joined = Array.from({ length: 10 }, (_, i) => i);
    const draws = 20_000;
    const firstJoinerAt = new Array<number>(10).fill(0);
    for (let i = 0; i < draws; i += 1) firstJoinerAt[fairStartOrder(joined).indexOf(0)] += 1;
    // Each place expects 2,000 (binomial sd ≈ 42): ±300 fails a biased shuffle, never a fair one in practice.
    for (const count of firstJoinerAt) expect(Math.abs(count - draws / 10)).toBeLessThan(300);
  });
});

describe('admissions earned per tick', () => {
  it('when a quarter second passed at 100/s, then 25 buyers are admitted', () => {
    expect(admissionsEarned({ credit: 0, lastTickMs: 1_000 }, 1_250, 100)).toEqual({ admit: 25, credit: 25 });
  });

  it('when the ticker was away for a minute, then at most one second’s worth is admitted at once', () => {
    expect(admissionsEarned({ credit: 0, lastTickMs: 0 }, 60_000, 100).admit).toBe(100);
  });

  it('when the rate is below one per second, then credit carries over until a whole admission is earned', () => {
    const first = admissionsEarned({ credit: 0, lastTickMs: 0 }, 1_000, 0.5);
    expect(first.admit).toBe(0);
    expect(admissionsEarned({ credit: first.credit, lastTickMs: 1_000 }, 2_000, 0.5).admit).toBe(1);
  });

  it('when the rate and hold window are given, then the slots for admitted buyers are rate × window', () => {
    expect(admissionSlots(100, 120)).toBe(12_000);
    expect(admissionSlots(0.1, 5)).toBe(1);
  });
});

describe('admission token', () => {
  const sessionId = randomUUID();
  const userId = randomUUID();
  const now = 1_000_000;
  const token = signAdmissionToken(SECRET, { sessionId, userId, exp: now + 60 });

  it('when the token is the caller’s own for the session and unexpired, then it admits', () => {
    expect(checkAdmissionToken(SECRET, token, { sessionId, userId }, now)).toEqual({ valid: true });
  });

  it.each([
    ['missing', undefined, { sessionId, userId }, now],
    ['expired', token, { sessionId, userId }, now + 60],
    ['other_user', token, { sessionId, userId: randomUUID() }, now],
    ['other_session', token, { sessionId: randomUUID(), userId }, now],
    ['malformed', `${token}x`, { sessionId, userId }, now],
    ['malformed', 'not-a-token', { sessionId, userId }, now],
    ['malformed', signAdmissionToken('another-secret-of-at-least-32-bytes', { sessionId, userId, exp: now + 60 }), { sessionId, userId }, now],
  ])('when the token is %s, then it is refused for that reason', (reason, given, expected, at) => {
    expect(checkAdmissionToken(SECRET, given, expected, at)).toEqual({ valid: false, reason });
  });
});

describe('queue ticket', () => {
  it('when made from a session and a user, then it reads back as both', () => {
    const sessionId = randomUUID();
    const userId = randomUUID();
    const ticket = queueTicketOf(sessionId, userId);
    expect(ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseQueueTicket(ticket)).toEqual({ sessionId, userId });
    expect(parseQueueTicket('short')).toBeUndefined();
  });
});
