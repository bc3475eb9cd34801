/**
 * Spans of our own around the steps that matter to a buyer (reserve, lock, hold, confirm, outbox publish,
 * consume). The OpenTelemetry API is a no-op until `startTracing` (in `@ticketing/platform/tracing`)
 * registers the SDK; until then `withSpan` does not even touch the API, so tracing that is off costs one
 * boolean check per step.
 */
import { SpanStatusCode, TraceFlags, context, trace, type Attributes, type Link, type Span, type SpanKind, type Tracer } from '@opentelemetry/api';
import { AppError } from './errors';

let enabled = false;
let shutdownHook: (() => Promise<void>) | undefined;

/** Called by startTracing once the SDK is registered; `shutdown` flushes and stops it. */
export function markTracingStarted(shutdown: () => Promise<void>): void {
  tracers.clear();
  enabled = true;
  shutdownHook = shutdown;
}

export function markTracingStopped(): void {
  tracers.clear();
  enabled = false;
  shutdownHook = undefined;
}

export const tracingEnabled = (): boolean => enabled;

/**
 * Whether the active trace is sampled: `undefined` outside any trace. Read from the trace flags, not from
 * `isRecording()`: a caller's context extracted from a `traceparent` (HTTP or message headers) is a
 * non-recording span even when the caller sampled it.
 */
export function activeTraceSampled(): boolean | undefined {
  const span = trace.getActiveSpan();
  return span === undefined ? undefined : (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
}

const tracers = new Map<string, Tracer>();

/** The SDK's tracer named `name`, looked up once per start of the SDK (tests start and stop it). */
export function platformTracer(name: string): Tracer {
  let found = tracers.get(name);
  if (!found) tracers.set(name, (found = trace.getTracer(name)));
  return found;
}

/**
 * Exports the spans still buffered and stops the SDK (no-op when tracing is off). runProcess and runTask
 * call it after the process stopped, so the last requests' spans — and a short job's only ones — are not lost.
 */
export async function flushTracing(): Promise<void> {
  const hook = shutdownHook;
  markTracingStopped();
  await hook?.();
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: SpanKind;
  /** Other traces this span belongs to as well (e.g. every message of a consumed batch). */
  links?: Link[];
  /** Starts a trace of its own instead of joining the active one (a batch serving many requests' traces). */
  root?: boolean;
}

/**
 * Runs `work` inside an active span named `name` (its children — pg, ioredis, HTTP, amqplib spans and our
 * own — hang under it). A thrown error is rethrown; a 4xx AppError (a conflict, an expired hold) is an
 * answer, not a failure, so it only adds its code to the span, anything else marks the span as failed.
 * Without tracing, runs `work` directly with `undefined` for the span.
 */
export function withSpan<T>(
  tracerName: string,
  name: string,
  options: SpanOptions,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!enabled) return work(undefined);
  // Inside a trace that is not sampled, a child would not be sampled either (parent-based sampling): the
  // active context already carries the "not sampled" decision on, so no span is made at all. A root span
  // starts a trace of its own, with its own sampling decision.
  if (!options.root && activeTraceSampled() === false) return work(undefined);
  return platformTracer(tracerName).startActiveSpan(name, { attributes: options.attributes, kind: options.kind, links: options.links, root: options.root }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      if (error instanceof AppError && error.status < 500) {
        span.setAttribute('ticketing.error_code', error.code);
      } else {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      }
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `work` without spans of its own: inside, the active trace reads as not sampled, so its Redis commands,
 * Postgres statements and `withSpan` steps make none. For frequent, low-value work of a sampled request (the
 * rate limits' Redis checks: one span per request that said nothing the server span's duration and the
 * `booking_rate_limit_*` metrics do not). Do not call other services inside: they would be told "not sampled".
 */
export function withoutSpans<T>(work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const span = trace.getActiveSpan();
  if (span === undefined) return work();
  const parent = span.spanContext();
  if ((parent.traceFlags & TraceFlags.SAMPLED) === 0) return work();
  return context.with(trace.setSpan(context.active(), trace.wrapSpanContext({ ...parent, traceFlags: TraceFlags.NONE })), work);
}
