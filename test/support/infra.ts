/**
 * Where tests find the real infrastructure. Defaults match the local services of DEVELOPERS.md and CI;
 * override with TEST_POSTGRES_URL / TEST_REDIS_URL / TEST_RABBITMQ_URL.
 */
import { randomUUID } from 'node:crypto';

export const POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Test databases are separate from the ones `npm start` uses. TEST_DATABASE_SUFFIX keeps two checkouts'
 * test runs on one Postgres apart (e.g. TEST_DATABASE_SUFFIX=_b).
 */
const TEST_DATABASE_SUFFIX = (process.env.TEST_DATABASE_SUFFIX ?? '').replace(/[^a-z0-9_]/g, '');

/** A test database's name with this checkout's TEST_DATABASE_SUFFIX. */
export const testDatabaseName = (name: string) => `${name}${TEST_DATABASE_SUFFIX}`;
export const EVENT_TEST_DATABASE_URL = `${POSTGRES_URL}/event_service_test${TEST_DATABASE_SUFFIX}`;
export const BOOKING_TEST_DATABASE_URL = `${POSTGRES_URL}/booking_service_test${TEST_DATABASE_SUFFIX}`;

/** A RabbitMQ namespace unique to one test file, so concurrent runs never consume each other's messages. */
export const uniqueBrokerNamespace = (label: string) => `test-${label}-${randomUUID().slice(0, 8)}`;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Services started by tests log nothing unless TEST_LOG_LEVEL asks for it (e.g. TEST_LOG_LEVEL=debug). */
export const silentLogLevel = (process.env.TEST_LOG_LEVEL ?? 'silent') as LogLevel;
