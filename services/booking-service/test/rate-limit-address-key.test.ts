import { addressKey } from '../src/entry-points/http/rate-limits';

describe('the rate-limit key of a client address', () => {
  test('when the address is IPv4 (or IPv4-mapped IPv6), then it is the key as is', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
  });

  test('when the address is IPv6, then every address of one /64 shares a key, however it is written', () => {
    const key = addressKey('2001:db8:85a3:12::1');
    expect(key).toBe('2001:db8:85a3:12::/64');
    expect(addressKey('2001:0DB8:85a3:0012:ffff:1:2:3')).toBe(key);
    expect(addressKey('2001:db8:85a3:12:abcd::')).toBe(key);
    expect(addressKey('2001:db8:85a3:13::1')).not.toBe(key);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1:2')).toBe('fe80:0:0:0::/64');
  });
});
