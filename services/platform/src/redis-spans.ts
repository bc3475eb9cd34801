import { SpanKind, SpanStatusCode, TraceFlags, context, trace, type Context } from '@opentelemetry/api';
import { platformTracer, tracingEnabled } from './spans';
import { PLATFORM_SCOPE } from './tracing-scopes';

/**
 * A CLIENT span per Redis command (the rate limits' checks, Redlock's acquire and release), made only inside a
 * sampled trace — the same one check of the sampled flag as the Postgres spans (db/query-spans.ts), replacing
 * `@opentelemetry/instrumentation-ioredis`. Wraps `Redis.prototype.sendCommand`, which every command and
 * pipeline member passes through; a command re-sent after a reconnect keeps its first span. Stable semantic
 * conventions: `db.system.name` `redis`, `db.operation.name` (the command, also the span name),
 * `db.namespace` (the database index), `server.address`/`server.port`. Arguments (keys, lock tokens) are
 * not recorded.
 *
 * A pipelined command — `enableAutoPipelining` (the booking API) or an explicit pipeline — is sent by
 * ioredis later, from a `setImmediate` in the async context of whichever caller queued the pipeline's first
 * command. So the context is taken when a command is queued (`Pipeline.prototype.sendCommand`), not when it
 * is sent: otherwise one buyer's lock commands land in another buyer's trace, and a check made without
 * spans (`withoutSpans`) gets one in a sampled neighbour's.
 */
const WRAPPED = Symbol.for('ticketing.platform.redisCommandSpans');
const TRACED = Symbol('ticketing.platform.redisCommandTraced');
const QUEUED_IN = Symbol('ticketing.platform.redisCommandQueuedIn');

interface RedisCommand {
  name: string;
  promise: Promise<unknown>;
  [TRACED]?: boolean;
  [QUEUED_IN]?: Context;
}

interface RedisFields {
  options: { host?: string; port?: number; db?: number };
}

type RedisPrototype = Record<string | symbol, unknown>;

const sampledIn = (parent: Context): boolean => {
  const span = trace.getSpan(parent);
  return span !== undefined && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
};

/**
 * `RedisClass` and `PipelineClass` are ioredis' `Redis` and `Pipeline`, passed by the process that uses them
 * (the platform does not load ioredis).
 */
export function traceRedisCommands(RedisClass: { prototype: object }, PipelineClass: { prototype: object }): void {
  const prototype = RedisClass.prototype as RedisPrototype;
  if (prototype[WRAPPED]) return;
  const original = prototype.sendCommand as (command: RedisCommand, ...rest: unknown[]) => unknown;
  prototype[WRAPPED] = original;
  prototype.sendCommand = function tracedSendCommand(this: RedisFields, command: RedisCommand, ...rest: unknown[]): unknown {
    if (command[TRACED] || !tracingEnabled()) return original.call(this, command, ...rest);
    const parent = command[QUEUED_IN] ?? context.active();
    if (!sampledIn(parent)) return original.call(this, command, ...rest);
    command[TRACED] = true;
    const span = platformTracer(PLATFORM_SCOPE.ioredis).startSpan(
      command.name,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'redis',
          'db.operation.name': command.name,
          'db.namespace': String(this.options.db ?? 0),
          'server.address': this.options.host,
          'server.port': this.options.port,
        },
      },
      parent,
    );
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
  const pipeline = PipelineClass.prototype as RedisPrototype;
  const queue = pipeline.sendCommand as (command: RedisCommand) => unknown;
  pipeline[WRAPPED] = queue;
  pipeline.sendCommand = function queueInCallersContext(this: unknown, command: RedisCommand): unknown {
    if (tracingEnabled()) command[QUEUED_IN] = context.active();
    return queue.call(this, command);
  };
}

/** Undoes `traceRedisCommands` (tests). */
export function untraceRedisCommands(RedisClass: { prototype: object }, PipelineClass: { prototype: object }): void {
  for (const prototype of [RedisClass.prototype, PipelineClass.prototype] as RedisPrototype[]) {
    const original = prototype[WRAPPED];
    if (!original) continue;
    prototype.sendCommand = original;
    delete prototype[WRAPPED];
  }
}
