import { z } from 'zod';
import {
  baseConfigShape,
  httpEdgeConfigShape,
  envBool,
  envInt,
  checkIdentityConfig,
  envUrl,
  identityConfigShape,
  loadConfig,
  loadConfigWithOverrides,
} from '@ticketing/platform';

/** Every setting of the event service's processes (API, consumer, migrations), read from the environment. */
export const eventConfigSchema = z.object({
  ...baseConfigShape,
  ...httpEdgeConfigShape,
  PORT: envInt(8000, 0, 65_535),
  DATABASE_URL: envUrl('postgres://postgres@127.0.0.1:5432/event_service', ['postgres', 'postgresql']),
  ...identityConfigShape,
  DB_POOL_MAX: envInt(10, 1, 500),
  /** How long one rendered seat map is served (its staleness bound); 0 renders on every request. */
  SEAT_MAP_CACHE_MS: envInt(500, 0, 60_000),
  /** migrate-main only: also load the demo data of docs/user-flow.md. */
  SEED_DEMO_DATA: envBool(false),
  /** The consumer's /health, /ready and /metrics server. */
  METRICS_PORT: envInt(9101, 0, 65_535),
  /** Messages RabbitMQ hands the consumer before it acknowledges any (the batches come out of these). */
  CONSUMER_PREFETCH: envInt(200, 1, 10_000),
  /** Most messages applied in one database transaction; 1 applies them one by one. */
  CONSUMER_BATCH_SIZE: envInt(100, 1, 1_000),
  /** Failed handling attempts of one message before it is dead-lettered. */
  CONSUMER_MAX_ATTEMPTS: envInt(5, 1, 100),
  /** Ids of applied messages (the duplicate check) are deleted after this many hours; 0 keeps them. */
  PROCESSED_MESSAGES_RETENTION_HOURS: envInt(168, 0, 87_600),
  /** Delay before a message whose handling failed is tried again. */
  CONSUMER_RETRY_DELAY_MS: envInt(2_000, 0, 600_000),
  /** Consumer: the booking service, asked what became of a reservation before its lapsed hold is returned to sale. */
  BOOKING_SERVICE_URL: envUrl('http://127.0.0.1:8001', ['http', 'https']),
  /** Consumer: a hold counts as lapsed this long after its reserved_until (booking's own sweep goes first). */
  LAPSED_HOLD_GRACE_SECONDS: envInt(300, 0, 604_800),
  /** Consumer: how often lapsed holds are looked for; 0 turns the check off. */
  LAPSED_HOLD_CHECK_INTERVAL_SECONDS: envInt(60, 0, 86_400),
  /** API and consumer: the Redis that carries seat changes to every API replica's live seat-map streams. */
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis', 'rediss']),
  /** Prefix of the per-session Redis Stream keys (tests give each run its own). */
  SEAT_MAP_STREAM_KEY_PREFIX: z.string().min(1).max(100).default('ticketing:seat-map-changes:'),
  /** Changes kept per session (XADD MAXLEN ~): how far back Last-Event-ID can resume before a fresh snapshot. */
  SEAT_MAP_STREAM_RETAINED_CHANGES: envInt(10_000, 100, 10_000_000),
  /** API: live seat-map subscribers one replica accepts; beyond, the stream answers 503 (the page polls). */
  SEAT_MAP_STREAM_MAX_SUBSCRIBERS: envInt(5_000, 0, 1_000_000),
  /** API: bytes a subscriber may leave unread (beyond its snapshot) before it is dropped as too slow. */
  SEAT_MAP_STREAM_BUFFER_BYTES: envInt(262_144, 1_024, 1_073_741_824),
  /** API: a comment line goes to every subscriber this often, so proxies keep idle streams open. */
  SEAT_MAP_STREAM_HEARTBEAT_SECONDS: envInt(15, 1, 3_600),
}).superRefine(checkIdentityConfig);

export type EventConfig = z.infer<typeof eventConfigSchema>;

/** Overrides accepted by the entry points (tests, the npm start orchestrator). */
export type EventOverrides = Partial<EventConfig> & {
  /** RabbitMQ namespace (prefix of every exchange and queue); tests pass a unique one. */
  brokerNamespace?: string;
};

/** Parses the environment; a bad or missing value throws a ConfigError with one line naming it. */
export function loadEventConfig(env: NodeJS.ProcessEnv = process.env): EventConfig {
  return loadConfig(eventConfigSchema, env);
}

/** Environment plus typed overrides, validated together so an override can never bypass the schema. */
export function resolveEventConfig(overrides: EventOverrides = {}, env: NodeJS.ProcessEnv = process.env): EventConfig {
  const { brokerNamespace: _namespace, ...settings } = overrides;
  return loadConfigWithOverrides(eventConfigSchema, settings, env);
}
