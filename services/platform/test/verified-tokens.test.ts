import { VerifiedTokens } from '../src/auth/verified-tokens';

function cache(options: { maxEntries?: number; maxAgeMs?: number } = {}) {
  const clock = { now: 1_000_000 };
  const tokens = new VerifiedTokens<string>({ maxEntries: options.maxEntries ?? 3, maxAgeMs: options.maxAgeMs ?? 60_000, now: () => clock.now });
  return { tokens, clock };
}

test('when a token is remembered, then it answers until the earlier of its exp and the maximum age', () => {
  const { tokens, clock } = cache();
  tokens.remember('short', 'a', clock.now + 10_000);
  tokens.remember('long', 'b', clock.now + 3_600_000);
  clock.now += 9_999;
  expect([tokens.get('short'), tokens.get('long')]).toEqual(['a', 'b']);
  clock.now += 1;
  expect(tokens.get('short')).toBeUndefined();
  clock.now += 50_000;
  expect(tokens.get('long')).toBeUndefined();
  expect(tokens.size).toBe(0);
});

test('when the cache is full, then the oldest token makes room', () => {
  const { tokens, clock } = cache({ maxEntries: 2 });
  for (const token of ['first', 'second', 'third']) tokens.remember(token, token, clock.now + 60_000);
  expect(['first', 'second', 'third'].map((token) => tokens.get(token))).toEqual([undefined, 'second', 'third']);
});

test('when a token is already expired or the cache is off, then nothing is remembered', () => {
  const { tokens, clock } = cache();
  tokens.remember('expired', 'x', clock.now);
  expect(tokens.get('expired')).toBeUndefined();
  const off = cache({ maxAgeMs: 0 });
  off.tokens.remember('any', 'x', off.clock.now + 60_000);
  expect(off.tokens.get('any')).toBeUndefined();
});
