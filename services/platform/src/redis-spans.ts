import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { activeTraceSampled, platformTracer } from './spans';
import { PLATFORM_SCOPE } from './tracing-scopes';

/**
 * A CLIENT span per Redis command (the rate limits' checks, Redlock's acquire and release), made only inside a
 * sampled trace — the same one check of the sampled flag as the Postgres spans (db/query-spans.ts), replacing
 * `@opentelemetry/instrumentation-ioredis`. Wraps `Redis.prototype.sendCommand`, which every command and
 * pipeline member passes through; a command re-sent after a reconnect keeps its first span. Stable semantic
 * conventions: `db.system.name` `redis`, `db.operation.name` (the command, also the span name),
 * `db.namespace` (the database index), `server.address`/`server.port`. Arguments (keys, lock tokens) are
 * not recorded.
 */
const WRAPPED = Symbol.for('ticketing.platform.redisCommandSpans');
const TRACED = Symbol('ticketing.platform.redisCommandTraced');

interface RedisCommand {
  name: string;
  promise: Promise<unknown>;
  [TRACED]?: boolean;
}

interface RedisFields {
  options: { host?: string; port?: number; db?: number };
}

type RedisPrototype = Record<string | symbol, unknown>;

/** `RedisClass` is ioredis' `Redis`, passed by the process that uses it (the platform does not load ioredis). */
export function traceRedisCommands(RedisClass: { prototype: object }): void {
  const prototype = RedisClass.prototype as RedisPrototype;
  if (prototype[WRAPPED]) return;
  const original = prototype.sendCommand as (command: RedisCommand, ...rest: unknown[]) => unknown;
  prototype[WRAPPED] = original;
  prototype.sendCommand = function tracedSendCommand(this: RedisFields, command: RedisCommand, ...rest: unknown[]): unknown {
    if (command[TRACED] || !activeTraceSampled()) return original.call(this, command, ...rest);
    command[TRACED] = true;
    const span = platformTracer(PLATFORM_SCOPE.ioredis).startSpan(command.name, {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system.name': 'redis',
        'db.operation.name': command.name,
        'db.namespace': String(this.options.db ?? 0),
        'server.address': this.options.host,
        'server.port': this.options.port,
      },
    });
    command.promise.then(
      () => span.end(),
      (error: Error) => {
        span.setAttribute('error.type', error?.name ?? 'Error');
        span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message });
        span.end();
      },
    );
    return original.call(this, command, ...rest);
  };
}

/** Undoes `traceRedisCommands` (tests). */
export function untraceRedisCommands(RedisClass: { prototype: object }): void {
  const prototype = RedisClass.prototype as RedisPrototype;
  const original = prototype[WRAPPED];
  if (!original) return;
  prototype.sendCommand = original;
  delete prototype[WRAPPED];
}
