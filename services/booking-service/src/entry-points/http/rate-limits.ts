import { isIPv6 } from 'node:net';
import type { Context } from 'koa';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { tooManyRequests, withoutSpans, type Logger } from '@ticketing/platform';
import type { BookingConfig } from '../../config';
import { callerId } from './caller-identity';

export type RateLimitedRoute = 'create_reservation' | 'confirm_reservation';
type KeyKind = 'address' | 'user';

const ROUTES: RateLimitedRoute[] = ['create_reservation', 'confirm_reservation'];
const KEY_KINDS: KeyKind[] = ['address', 'user'];

/** Route hooks (`rateLimit` of a route spec) that answer 429 RATE_LIMITED (with Retry-After). */
export type RateLimits = Record<RateLimitedRoute, (ctx: Context) => Promise<void>>;

interface Metrics {
  limited: Counter<'route' | 'key'>;
  storeErrors: Counter<'route'>;
}

/**
 * A fixed-window counter per key, kept in Redis so every replica counts the same requests. When Redis cannot
 * answer, the request is counted in this process's memory instead (same limit, per replica): the limit
 * loosens by the replica count for that while, but it neither turns into 5xx nor disappears.
 */
class KeyedLimit {
  private readonly shared: RateLimiterRedis;
  private readonly local: RateLimiterMemory;

  constructor(
    redis: Redis,
    readonly route: RateLimitedRoute,
    readonly kind: KeyKind,
    points: number,
    windowSeconds: number,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    const keyPrefix = `rate-limit:${route}:${kind}`;
    // rejectIfRedisNotReady: while the connection is down, go to memory at once instead of waiting for Redis.
    this.shared = new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: windowSeconds, rejectIfRedisNotReady: true });
    this.local = new RateLimiterMemory({ keyPrefix, points, duration: windowSeconds });
  }

  /** Counts one request of `key`; throws the 429 when the key is over its limit. */
  async consume(key: string): Promise<void> {
    try {
      // No Redis span per check in a sampled trace: a 429 shows on the server span, a store failure in
      // booking_rate_limit_store_errors_total (docs/observability.md, "Cost").
      await withoutSpans(() => this.shared.consume(key));
    } catch (outcome) {
      if (outcome instanceof RateLimiterRes) throw this.refusal(outcome);
      this.metrics.storeErrors.inc({ route: this.route });
      this.logger.debug({ err: outcome, route: this.route }, 'Rate limit store unavailable; counting in memory');
      try {
        await this.local.consume(key);
      } catch (localOutcome) {
        if (localOutcome instanceof RateLimiterRes) throw this.refusal(localOutcome);
        throw localOutcome;
      }
    }
  }

  private refusal(outcome: RateLimiterRes) {
    this.metrics.limited.inc({ route: this.route, key: this.kind });
    const retryAfterSeconds = Math.max(1, Math.ceil(outcome.msBeforeNext / 1000));
    return tooManyRequests(retryAfterSeconds, `Too many requests; retry after ${retryAfterSeconds} s`, { limit: this.kind });
  }
}

/**
 * The rate-limit key of a client address: an IPv4 address as is, an IPv6 address by its /64 network (one
 * customer site or device usually owns a whole /64 and could otherwise rotate through it for fresh budgets).
 */
export function addressKey(ip: string): string {
  if (!isIPv6(ip)) return ip;
  const mappedIPv4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mappedIPv4) return mappedIPv4[1];
  const [head, tail] = ip.toLowerCase().split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

function createMetrics(registry: Registry): Metrics {
  const limited = new Counter({
    name: 'booking_rate_limited_requests_total',
    help: 'Requests refused with 429 by route and key kind (address, user)',
    labelNames: ['route', 'key'],
    registers: [registry],
  });
  const storeErrors = new Counter({
    name: 'booking_rate_limit_store_errors_total',
    help: 'Rate limit checks Redis could not answer, counted in process memory instead, by route',
    labelNames: ['route'],
    registers: [registry],
  });
  for (const route of ROUTES) {
    storeErrors.inc({ route }, 0);
    for (const key of KEY_KINDS) limited.inc({ route, key }, 0);
  }
  return { limited, storeErrors };
}

/**
 * Limits on holding seats and on paying, per client address (ctx.ip: the peer, or X-Forwarded-For when
 * TRUST_PROXY_HOPS says which entries our proxies wrote) and per caller. The address is checked first, so a
 * flood from one address is refused before it costs each user's budget. A limit of 0 is off.
 */
export function createRateLimits(redis: Redis, registry: Registry, logger: Logger, config: BookingConfig): RateLimits {
  const metrics = createMetrics(registry);
  const window = config.RATE_LIMIT_WINDOW_SECONDS;
  const limit = (route: RateLimitedRoute, kind: KeyKind, points: number) =>
    points > 0 ? new KeyedLimit(redis, route, kind, points, window, metrics, logger) : undefined;
  const hook = (route: RateLimitedRoute, perAddress: number, perUser: number) => {
    const byAddress = limit(route, 'address', perAddress);
    const byUser = limit(route, 'user', perUser);
    return async (ctx: Context) => {
      await byAddress?.consume(addressKey(ctx.ip));
      await byUser?.consume(callerId(ctx));
    };
  };
  return {
    create_reservation: hook('create_reservation', config.RATE_LIMIT_RESERVATIONS_PER_ADDRESS, config.RATE_LIMIT_RESERVATIONS_PER_USER),
    confirm_reservation: hook('confirm_reservation', config.RATE_LIMIT_CONFIRMS_PER_ADDRESS, config.RATE_LIMIT_CONFIRMS_PER_USER),
  };
}
