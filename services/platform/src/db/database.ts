import knex, { type Knex } from 'knex';
import { Client, types } from 'pg';
import { errorCode, isConcurrentMigrationError, PG } from './postgres-errors';

export type { Knex } from 'knex';

export interface DatabaseOptions {
  url: string;
  poolMin?: number;
  poolMax?: number;
  /** Milliseconds a single statement may run before Postgres cancels it. */
  statementTimeoutMs?: number;
}

// Return NUMERIC as strings (exact money, converted deliberately in the domain) and BIGINT counts as numbers.
types.setTypeParser(20, (value) => Number(value));

export function createDatabase(options: DatabaseOptions): Knex {
  return knex({
    client: 'pg',
    connection: {
      connectionString: options.url,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      application_name: process.env.OTEL_SERVICE_NAME ?? 'ticketing',
    },
    pool: { min: options.poolMin ?? 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}

/** Creates the database named in the URL if it does not exist (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Refusing to create database with unusual name "${name}"`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (error) {
        // Another process created it between our check and our CREATE.
        const code = errorCode(error);
        if (code !== PG.duplicateDatabase && code !== PG.uniqueViolation) throw error;
      }
    }
  } finally {
    await client.end();
  }
}

export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

/** Runs migrations given as imported modules, so the same list works under ts (tests) and compiled js. */
export async function migrateToLatest(db: Knex, migrations: Migration[], tableName = 'knex_migrations'): Promise<string[]> {
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: async () => migrations,
    getMigrationName: (migration) => migration.name,
    getMigration: async (migration) => ({ up: migration.up, down: migration.down }),
  };
  const [, applied] = (await db.migrate.latest({ migrationSource: source, tableName })) as [number, string[]];
  return applied;
}

/** Attempts of a migration run that finds another process migrating; it waits 200 ms to 1 s between them. */
const MIGRATION_ATTEMPTS = 50;

/**
 * Creates the database named in the URL if it is missing and applies every migration; returns the names
 * applied. Safe when several processes (pods, parallel test files, a Helm hook) do it at once: a run that finds
 * the migration lock taken, or a table created under it, waits and tries again.
 */
export async function migrateDatabase(url: string, migrations: Migration[]): Promise<string[]> {
  await ensureDatabase(url);
  const db = createDatabase({ url, poolMax: 1 });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await migrateToLatest(db, migrations);
      } catch (error) {
        if (attempt >= MIGRATION_ATTEMPTS || !isConcurrentMigrationError(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * Math.min(attempt, 5)));
      }
    }
  } finally {
    await db.destroy();
  }
}

export async function pingDatabase(db: Knex): Promise<void> {
  await db.raw('select 1');
}
