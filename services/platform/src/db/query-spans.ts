import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { Client } from 'pg';
import { activeTraceSampled, platformTracer } from '../spans';
import { PLATFORM_SCOPE } from '../tracing-scopes';

/**
 * A CLIENT span per Postgres statement, made only inside a sampled trace: one check of the active span's
 * sampled flag decides, so queries of unsampled requests and of background work outside any trace (the outbox
 * poll, an idle expiry sweep) cost one function call. This replaces `@opentelemetry/instrumentation-pg`,
 * which wraps every query and pool checkout and binds every callback to its context whether or not the
 * trace is sampled.
 *
 * Every connection is a `pg.Client` (knex's pool and ours), so wrapping `Client.prototype.query` covers
 * knex's statements, our named prepared statements, BEGIN/COMMIT and migrations. Stable semantic
 * conventions: `db.system.name`, `db.namespace` (the database), `db.operation.name` (the statement's first
 * keyword), `db.query.summary` and the span name (a prepared statement's name, e.g.
 * `booking.reservations.insert_held`; otherwise `<operation> <database>`), `db.query.text` (only for an
 * unnamed statement: a prepared statement's name already says which SQL of the code ran, and its text
 * was most of the bytes serialized and exported per span), `db.response.status_code` (the SQLSTATE of a
 * failure), `server.address`/`server.port`.
 *
 * Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) and SET get no span: they were 2-4 of
 * the ~18 spans of a reservation and said nothing the enclosing span and its statements do not (a failed
 * COMMIT fails the step around it, which records the error). docs/observability.md, "Cost".
 */
const WRAPPED = Symbol.for('ticketing.platform.pgQuerySpans');

interface QueryLike {
  text?: string;
  name?: string;
}

interface ClientFields {
  database?: string;
  host?: string;
  port?: number;
}

type Callback = (error: Error | null, result?: unknown) => void;

export function traceQueries(): void {
  const prototype = Client.prototype as unknown as Record<string | symbol, unknown>;
  if (prototype[WRAPPED]) return;
  const original = prototype.query as (...args: unknown[]) => unknown;
  prototype[WRAPPED] = original;
  prototype.query = function tracedQuery(this: ClientFields, ...args: unknown[]): unknown {
    if (!activeTraceSampled()) return original.apply(this, args);
    const config = args[0];
    const statement: QueryLike = typeof config === 'string' ? { text: config } : ((config as QueryLike | null) ?? {});
    // A Submittable (a cursor, a pg.Query) reports through its own events: not traced.
    if (typeof (config as { submit?: unknown } | null)?.submit === 'function') return original.apply(this, args);
    const operation = operationOf(statement.text);
    if (operation !== undefined && UNTRACED_OPERATIONS.has(operation)) return original.apply(this, args);
    const span = startQuerySpan(this, statement, operation);
    const last = args.length - 1;
    if (typeof args[last] === 'function') {
      const callback = args[last] as Callback;
      args[last] = (error: Error | null, result?: unknown) => {
        endQuerySpan(span, error);
        callback(error, result);
      };
      return original.apply(this, args);
    }
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (error) {
      endQuerySpan(span, error as Error);
      throw error;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        () => endQuerySpan(span, null),
        (error: Error) => endQuerySpan(span, error),
      );
    } else {
      endQuerySpan(span, null);
    }
    return result;
  };
}

/** Undoes `traceQueries` (tests). */
export function untraceQueries(): void {
  const prototype = Client.prototype as unknown as Record<string | symbol, unknown>;
  const original = prototype[WRAPPED];
  if (!original) return;
  prototype.query = original;
  delete prototype[WRAPPED];
}

const UNTRACED_OPERATIONS = new Set(['BEGIN', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'SET']);

/** The statement's first keyword, upper case (`SELECT`, `WITH`, `BEGIN`). */
function operationOf(text: string | undefined): string | undefined {
  return text === undefined ? undefined : /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase();
}

function startQuerySpan(client: ClientFields, statement: QueryLike, operation: string | undefined): Span {
  const summary = statement.name ?? (operation ? `${operation}${client.database ? ` ${client.database}` : ''}` : 'postgresql');
  return platformTracer(PLATFORM_SCOPE.pg).startSpan(summary, {
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'postgresql',
      'db.namespace': client.database,
      'db.operation.name': operation,
      'db.query.summary': summary,
      'db.query.text': statement.name === undefined ? statement.text : undefined,
      'server.address': client.host,
      'server.port': client.port,
    },
  });
}

function endQuerySpan(span: Span, error: Error | null | undefined) {
  if (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') span.setAttribute('db.response.status_code', code);
    span.setAttribute('error.type', typeof code === 'string' ? code : error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  }
  span.end();
}
