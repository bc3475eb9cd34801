import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, context, propagation, trace, type Span } from '@opentelemetry/api';
import type { Context, Next } from 'koa';
import { platformTracer, tracingEnabled } from '../spans';
import { PLATFORM_SCOPE } from '../tracing-scopes';

/** Requests that are not a buyer's: probes and scrapes would otherwise be most of the traces. */
const UNTRACED_PATHS = /^\/(health|ready|metrics)(\/|\?|$)/;

/**
 * The request's SERVER span, made by the first middleware (instead of the HTTP instrumentation, which wraps
 * every request and response emitter and computes its attributes before the sampler has even decided).
 * The caller's W3C `traceparent` is the parent, so a trace crosses services and the sampling decision made
 * at its root is obeyed. An unsampled request gets a non-recording span only: the context still carries it
 * (so the event API is told "not sampled" too), but no attribute is computed and nothing is exported; a
 * request whose caller did not sample it gets no span at all.
 *
 * Named after the matched route (`POST /api/v1/reservations/:id/confirm`) once the router ran; 5xx answers
 * mark it ERROR, 4xx answers never do (a server span's 4xx is the client's doing).
 */
export function serverSpan() {
  return async function traceRequest(ctx: Context, next: Next): Promise<void> {
    if (!tracingEnabled() || UNTRACED_PATHS.test(ctx.path)) return next();
    const parent = propagation.extract(ROOT_CONTEXT, ctx.headers);
    // A caller that did not sample its trace: parent-based sampling would not sample this span either, so
    // none is made; the caller's context is passed on as it came (still "not sampled").
    const caller = trace.getSpanContext(parent);
    if (caller && (caller.traceFlags & TraceFlags.SAMPLED) === 0) return context.with(parent, next);
    const span = platformTracer(PLATFORM_SCOPE.http).startSpan(ctx.method, { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      span.setAttributes({
        'http.request.method': ctx.method,
        'url.path': ctx.path,
        'url.scheme': ctx.protocol,
        'client.address': ctx.ip,
        'network.protocol.version': ctx.req.httpVersion,
        'user_agent.original': ctx.get('user-agent') || undefined,
      });
    }
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      if (span.isRecording()) endRecorded(span, ctx);
      else span.end();
    }
  };
}

function endRecorded(span: Span, ctx: Context) {
  const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
  if (typeof route === 'string') {
    span.setAttribute('http.route', route);
    span.updateName(`${ctx.method} ${route}`);
  }
  span.setAttribute('http.response.status_code', ctx.status);
  if (ctx.status >= 500) {
    span.setAttribute('error.type', String(ctx.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** A failure (5xx, an exception) on the request's server span; answers such as a 409 are not recorded. */
export function recordRequestFailure(error: unknown): void {
  if (!tracingEnabled()) return;
  const span = trace.getActiveSpan();
  if (span?.isRecording()) span.recordException(error instanceof Error ? error : String(error));
}
