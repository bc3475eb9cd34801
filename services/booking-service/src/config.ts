import { z } from 'zod';
import {
  baseConfigShape,
  checkIdentityConfig,
  identityConfigShape,
  httpEdgeConfigShape,
  envInt,
  envNumber,
  envOptionalString,
  envUrl,
  loadConfig,
  loadConfigWithOverrides,
  MIN_SECRET_BYTES,
} from '@ticketing/platform';
import { parseTicketSigningKeys } from './domain/ticket-signing';

const DEV_TICKET_SIGNING_SECRET = 'dev-only-ticket-signing-secret-change-me';
const DEV_QUEUE_ADMISSION_SECRET = 'dev-only-queue-admission-secret-change-me';

const bookingConfigSchema = z
  .object({
    ...baseConfigShape,
    ...httpEdgeConfigShape,
    PORT: envInt(8001, 0, 65_535),
    DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/booking_service', ['postgres', 'postgresql']),
    REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis', 'rediss']),
    EVENT_SERVICE_URL: envUrl('http://127.0.0.1:8000', ['http', 'https']),
    EVENT_SERVICE_TIMEOUT_MS: envInt(2_000, 50, 60_000),
    RESERVATION_TTL_SECONDS: envInt(600, 1, 86_400),
    MAX_SEATS_PER_RESERVATION: envInt(10, 1, 100),
    /** Seats one user may hold at once in one session, across their active reservations. */
    MAX_SEATS_PER_USER_PER_SESSION: envInt(10, 1, 100_000),
    /** Tickets can be refunded until this many minutes before the session starts (0 = until the start). */
    REFUND_CUTOFF_MINUTES: envInt(0, 0, 525_600),
    /** How often the API finishes provider calls a crash left owing (capture/void/refund); 0 disables it. */
    PAYMENT_RECOVERY_INTERVAL_SECONDS: envInt(30, 0, 86_400),
    PAYMENT_SUCCESS_RATE: envNumber(1, 0, 1),
    EXPIRY_SWEEP_INTERVAL_SECONDS: envInt(5, 0, 86_400),
    EXPIRY_BATCH_SIZE: envInt(500, 1, 10_000),
    OUTBOX_POLL_INTERVAL_MS: envInt(1_000, 10, 600_000),
    /** Outbox rows the relay claims and publishes at once per pass. */
    OUTBOX_BATCH_SIZE: envInt(500, 1, 10_000),
    /** Published outbox rows are deleted by the expiry sweep after this many hours; 0 keeps them forever. */
    OUTBOX_RETENTION_HOURS: envInt(168, 0, 87_600),
    LOCK_TTL_MS: envInt(5_000, 100, 60_000),
    /** Verifies pre-Ed25519 (HMAC) ticket codes online; unset in production once their sessions are over. */
    TICKET_SIGNING_SECRET: envOptionalString(),
    /** Ed25519 ticket signing keys: JWK array, JWKS or PEM blocks; the active key first (or TICKET_SIGNING_ACTIVE_KID). */
    TICKET_SIGNING_KEYS: envOptionalString(),
    TICKET_SIGNING_ACTIVE_KID: envOptionalString(),
    /** A ticket code's `exp`: this many hours after its session starts. */
    TICKET_CODE_VALID_HOURS_AFTER_START: envInt(24, 1, 8_760),
    /** HMAC key of waiting-room admission tokens; production refuses a missing or short one. */
    QUEUE_ADMISSION_SECRET: envOptionalString(),
    /** How often the waiting-room ticker (one process at a time, by a Redis lease) admits; 0 = not in this process. */
    WAITING_ROOM_TICK_MS: envInt(250, 0, 60_000),
    /** How often the ticker asks the event service's seat map whether an open waiting room's session sold out. */
    WAITING_ROOM_SOLD_OUT_CHECK_MS: envInt(1_000, 100, 600_000),
    /** Prefix of the waiting room's Redis keys (one per deployment sharing a Redis). */
    WAITING_ROOM_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('waiting-room'),
    ...identityConfigShape,
    DB_POOL_MAX: envInt(10, 1, 200),
    /** Most reservations held at the event service in one call, and written in one statement (1 turns batching off). */
    HOLD_BATCH_MAX_SIZE: envInt(64, 1, 128),
    /** Batches (hold calls, reservation writes) in flight at once each; a lone request never waits while fewer run. */
    HOLD_BATCH_MAX_IN_FLIGHT: envInt(1, 1, 16),
    /** Price tiers are read from memory for at most this long (changes reach every replica at once by Redis pub/sub); 0 = no cache. */
    PRICE_TIER_CACHE_SECONDS: envInt(300, 0, 86_400),
    /** A Redis command (seat lock, rate limit) not answered within this fails, so a hung Redis cannot stall requests. */
    REDIS_COMMAND_TIMEOUT_MS: envInt(1_000, 50, 60_000),
    // Rate limits on POST /reservations and POST /reservations/{id}/confirm: requests per window, 0 = no limit.
    // Generous here for local load tests from one address; the Helm chart sets the production values.
    RATE_LIMIT_WINDOW_SECONDS: envInt(60, 1, 3_600),
    RATE_LIMIT_RESERVATIONS_PER_USER: envInt(600, 0, 1_000_000),
    RATE_LIMIT_RESERVATIONS_PER_ADDRESS: envInt(0, 0, 1_000_000),
    RATE_LIMIT_CONFIRMS_PER_USER: envInt(600, 0, 1_000_000),
    RATE_LIMIT_CONFIRMS_PER_ADDRESS: envInt(0, 0, 1_000_000),
  })
  .superRefine((config, ctx) => {
    checkIdentityConfig(config, ctx);
    if (config.NODE_ENV === 'production' && !config.TICKET_SIGNING_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['TICKET_SIGNING_SECRET'], message: 'is required when NODE_ENV=production' });
    }
    if (config.NODE_ENV === 'production' && !config.QUEUE_ADMISSION_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['QUEUE_ADMISSION_SECRET'], message: 'is required when NODE_ENV=production (signs waiting-room admission tokens)' });
    } else if (config.NODE_ENV === 'production' && Buffer.byteLength(config.QUEUE_ADMISSION_SECRET ?? '', 'utf8') < MIN_SECRET_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['QUEUE_ADMISSION_SECRET'], message: `must be at least ${MIN_SECRET_BYTES} bytes when NODE_ENV=production` });
    }
    if (config.NODE_ENV === 'production' && !config.TICKET_SIGNING_KEYS) {
      ctx.addIssue({ code: 'custom', path: ['TICKET_SIGNING_KEYS'], message: 'is required when NODE_ENV=production (Ed25519 keys that sign ticket codes)' });
    }
    if (config.TICKET_SIGNING_KEYS) {
      try {
        parseTicketSigningKeys(config.TICKET_SIGNING_KEYS, config.TICKET_SIGNING_ACTIVE_KID);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['TICKET_SIGNING_KEYS'], message: (error as Error).message });
      }
    } else if (config.TICKET_SIGNING_ACTIVE_KID) {
      ctx.addIssue({ code: 'custom', path: ['TICKET_SIGNING_ACTIVE_KID'], message: 'needs TICKET_SIGNING_KEYS' });
    }
  })
  .transform((config) => ({
    ...config,
    TICKET_SIGNING_SECRET: config.TICKET_SIGNING_SECRET ?? DEV_TICKET_SIGNING_SECRET,
    QUEUE_ADMISSION_SECRET: config.QUEUE_ADMISSION_SECRET ?? DEV_QUEUE_ADMISSION_SECRET,
  }));

export type BookingConfig = z.infer<typeof bookingConfigSchema>;

export function loadBookingConfig(env: NodeJS.ProcessEnv = process.env): BookingConfig {
  return loadConfig(bookingConfigSchema, env);
}

/** Environment plus typed overrides, validated together. */
export function resolveBookingConfig(overrides: Partial<BookingConfig> = {}, env: NodeJS.ProcessEnv = process.env): BookingConfig {
  return loadConfigWithOverrides(bookingConfigSchema, overrides, env);
}

/** A pending hold older than this belongs to a request that can no longer be running (lock + reserve + release). */
export const pendingHoldGraceSeconds = (config: BookingConfig) =>
  Math.max(60, 2 * Math.ceil((config.LOCK_TTL_MS + 4 * config.EVENT_SERVICE_TIMEOUT_MS) / 1000));

/** How long an Idempotency-Key claim blocks duplicates before a retry may take it over (< the grace above). */
export const idempotencyLeaseMs = (config: BookingConfig) => Math.min(30_000, (pendingHoldGraceSeconds(config) * 1000) / 2);
