import type { Knex } from 'knex';
import { DatabaseError, type Client as PgClient, type QueryResult, type QueryResultRow } from 'pg';
import { PG } from './postgres-errors';

/**
 * Named prepared statements on knex's own pool.
 *
 * knex sends every statement unnamed, so Postgres parses and plans it on every call. A statement declared
 * here is sent as a node-postgres named statement (`{ name, text, values }`): each pooled connection parses
 * it once, and Postgres may keep its plan. Declare it once, at module level, with knex-style named
 * parameters (`:sessionId`, `:seatIds::uuid[]`), then `run(dbOrTrx, params)`.
 *
 * - The connection comes from knex (`client.acquireConnection()`), so there is one pool; on a transaction
 *   that is the transaction's connection, and the statement is part of the transaction.
 * - Listeners of knex's 'query', 'query-response' and 'query-error' events see the statement like a
 *   `knex.raw` one (`sql` is the `$n` text, `bindings` the values; 'query-response' has no builder).
 * - Errors are node-postgres' own (a `DatabaseError` with `.code`), the message prefixed with the SQL like
 *   knex does. A connection that failed other than with an ordinary Postgres error (lost, FATAL, protocol
 *   error) is not reused: knex's pool destroys it.
 * - After a schema change altered a statement's result columns, Postgres refuses the old prepared statement
 *   ("cached plan must not change result type"). Outside a transaction it is re-prepared and retried once;
 *   inside one the error propagates (the transaction is aborted) and the connection is not reused.
 */
export interface PreparedStatement<Params extends StatementParams, Row extends QueryResultRow> {
  /** The statement's name on every connection (unique in the process). */
  readonly name: string;
  /** The SQL as sent, with `$1`, `$2`, … */
  readonly text: string;
  /** Parameter names in `$n` order (each named parameter once, however often it appears). */
  readonly parameters: readonly string[];
  /** Runs on the pool (a knex instance) or on a transaction's connection; resolves to node-postgres' result. */
  run(db: Knex | Knex.Transaction, params: Params): Promise<QueryResult<Row>>;
}

export type StatementParams = Record<string, unknown>;

/** Postgres truncates identifiers to 63 bytes; longer names would silently collide. */
const MAX_NAME_BYTES = 63;

/** One registry per process (and per realm), even if this module were loaded twice. */
const REGISTRY_KEY = Symbol.for('ticketing.platform.preparedStatements');
const registry: Map<string, string> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= new Map<string, string>()) as Map<
  string,
  string
>;

/**
 * Declares a named prepared statement. Throws when the name is already declared with different SQL, when
 * the SQL uses `$n` or `?` placeholders, or when it has no valid name.
 */
export function definePreparedStatement<Params extends StatementParams = Record<string, never>, Row extends QueryResultRow = QueryResultRow>(
  name: string,
  sql: string,
): PreparedStatement<Params, Row> {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name) || Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new Error(`Invalid prepared statement name "${name}" (letters, digits, _ . -; at most ${MAX_NAME_BYTES} bytes)`);
  }
  const { text, parameters } = compileNamedParameters(sql);
  const existing = registry.get(name);
  if (existing !== undefined && existing !== text) {
    throw new Error(`Prepared statement "${name}" is already defined with different SQL`);
  }
  registry.set(name, text);
  return {
    name,
    text,
    parameters,
    run: async (db, params) => runStatement<Row>(db, name, text, valuesOf(name, parameters, params)),
  };
}

/**
 * `:name` → `$n` (the same name → the same `$n`), outside string literals, quoted identifiers and comments.
 * `::` is a cast, never a parameter. Throws on `$n` and `?` placeholders (one style per statement). An array
 * slice's upper bound written `a[1:n]` would read as a parameter: write `a[1 : n]`.
 */
export function compileNamedParameters(sql: string): { text: string; parameters: string[] } {
  const parameters: string[] = [];
  let text = '';
  let i = 0;
  const copyUntil = (end: number) => {
    text += sql.slice(i, end);
    i = end;
  };
  while (i < sql.length) {
    const char = sql[i];
    const next = sql[i + 1];
    if (char === "'") {
      // A string literal; E'…' strings also escape with a backslash.
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]) && (i < 2 || !/[\w$]/.test(sql[i - 2]));
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new Error('Unterminated string literal in prepared statement');
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j += 1;
      }
      copyUntil(j + 1);
    } else if (char === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) throw new Error('Unterminated quoted identifier in prepared statement');
      copyUntil(end + 1);
    } else if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      copyUntil(end < 0 ? sql.length : end);
    } else if (char === '/' && next === '*') {
      let depth = 0;
      let j = i;
      do {
        if (j >= sql.length) throw new Error('Unterminated comment in prepared statement');
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
        } else j += 1;
      } while (depth > 0);
      copyUntil(j);
    } else if (char === '$' && (i === 0 || !/[\w$]/.test(sql[i - 1]))) {
      if (/[0-9]/.test(next ?? '')) throw new Error('Use :name parameters in prepared statements, not $n');
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!tag) {
        copyUntil(i + 1);
        continue;
      }
      const end = sql.indexOf(tag[0], i + tag[0].length);
      if (end < 0) throw new Error('Unterminated dollar-quoted string in prepared statement');
      copyUntil(end + tag[0].length);
    } else if (char === '?') {
      throw new Error('Use :name parameters in prepared statements, not ?');
    } else if (char === ':' && next === ':') {
      copyUntil(i + 2);
    } else if (char === ':' && /[A-Za-z_]/.test(next ?? '')) {
      const [, parameter] = /^:([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i))!;
      let index = parameters.indexOf(parameter);
      if (index < 0) index = parameters.push(parameter) - 1;
      text += `$${index + 1}`;
      i += parameter.length + 1;
    } else {
      copyUntil(i + 1);
    }
  }
  return { text, parameters };
}

function valuesOf(name: string, parameters: readonly string[], params: StatementParams): unknown[] {
  const values = parameters.map((parameter) => {
    const value = params[parameter];
    if (value === undefined) throw new Error(`Prepared statement "${name}": no value for :${parameter}`);
    return value;
  });
  const keys = Object.keys(params);
  if (keys.length !== parameters.length) {
    const unknown = keys.filter((key) => !parameters.includes(key));
    if (unknown.length) throw new Error(`Prepared statement "${name}" has no parameter ${unknown.map((key) => `:${key}`).join(', ')}`);
  }
  return values;
}

/** What knex puts on its pg connections, and what node-postgres keeps per connection. */
type KnexConnection = PgClient & {
  __knexUid?: string;
  __knexTxId?: string;
  __knex__disposed?: unknown;
  connection?: { parsedStatements?: Record<string, string> };
};

/** The part of knex's client this module uses (typed `any` by knex). */
interface KnexClient {
  acquireConnection(): Promise<KnexConnection>;
  releaseConnection(connection: KnexConnection): Promise<unknown>;
  emit(event: string, ...args: unknown[]): boolean;
}

let queryUid = 0;

async function runStatement<Row extends QueryResultRow>(
  db: Knex | Knex.Transaction,
  name: string,
  text: string,
  values: unknown[],
): Promise<QueryResult<Row>> {
  const transaction = db.isTransaction === true;
  // knex's transaction client refuses queries once the transaction ended (its connection may be back in the pool).
  if (transaction && (db as Knex.Transaction).isCompleted()) {
    throw new Error(`Transaction query already complete (prepared statement "${name}")`);
  }
  const client = db.client as KnexClient;
  const connection = await client.acquireConnection();
  try {
    const event = {
      __knexUid: connection.__knexUid,
      __knexTxId: connection.__knexTxId,
      __knexQueryUid: `prepared-${++queryUid}`,
      method: 'raw',
      sql: text,
      bindings: values,
      options: {},
      name,
    };
    client.emit('query', event);
    try {
      const result = await execute<Row>(connection, name, text, values, !transaction);
      client.emit('query-response', result, event, undefined);
      return result;
    } catch (error) {
      if (!(error instanceof DatabaseError) || error.severity === 'FATAL' || error.severity === 'PANIC' || isStalePlan(error)) {
        // Lost (a FATAL error ends the session before the socket closes), in an unknown protocol state, or
        // holding a statement Postgres refuses: knex's pool destroys a connection marked like this when it is
        // next validated instead of handing it out again.
        connection.__knex__disposed = error;
      }
      if (error instanceof Error) error.message = `${text} - ${error.message}`;
      client.emit('query-error', error, event);
      throw error;
    }
  } finally {
    await client.releaseConnection(connection);
  }
}

async function execute<Row extends QueryResultRow>(
  connection: KnexConnection,
  name: string,
  text: string,
  values: unknown[],
  mayRetry: boolean,
): Promise<QueryResult<Row>> {
  try {
    return await connection.query<Row>({ name, text, values });
  } catch (error) {
    const parsed = connection.connection?.parsedStatements;
    if (!mayRetry || !isStalePlan(error) || !parsed) throw error;
    // The statement's result columns changed under it (a migration): prepare it again, once.
    await connection.query(`DEALLOCATE "${name}"`);
    delete parsed[name];
    return await connection.query<Row>({ name, text, values });
  }
}

/** Postgres' answer to a prepared statement whose result columns changed since it was prepared. */
function isStalePlan(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === PG.featureNotSupported && /cached plan must not change result type/.test(error.message);
}
