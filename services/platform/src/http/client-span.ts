import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { SpanKind, SpanStatusCode, context, propagation, trace, type Span } from '@opentelemetry/api';
import { activeTraceSampled, platformTracer } from '../spans';
import { PLATFORM_SCOPE } from '../tracing-scopes';

/**
 * Outgoing HTTP calls made inside a trace (the booking API's calls to the event API) carry the W3C
 * `traceparent`, so the callee's server span joins the caller's trace and obeys its sampling decision; in a
 * sampled trace the call also gets a CLIENT span (named after the method, stable semantic conventions). Calls
 * outside any trace are left alone.
 *
 * It wraps `http.request`/`https.request` because Node 20 offers no earlier hook: its diagnostics channel
 * `http.client.request.start` fires after the headers are sent. This replaces
 * `@opentelemetry/instrumentation-http`'s client half; the server half is `serverSpan` (server-span.ts).
 */

/**
 * Answers, not failures: a seat taken by someone else (409), a hold that lapsed (410), a request that breaks
 * a business rule (422). What an on-sale is made of; they would flood error views.
 */
const BUSINESS_OUTCOME_STATUSES: ReadonlySet<number> = new Set([409, 410, 422]);

const WRAPPED = Symbol.for('ticketing.platform.httpClientSpans');

type RequestFunction = (...args: unknown[]) => ClientRequest;
type Transport = typeof http | typeof https;

export function traceOutgoingRequests(): void {
  for (const transport of [http, https] as Transport[]) {
    const target = transport as unknown as Record<string | symbol, unknown>;
    if (target[WRAPPED]) continue;
    const original = target.request as RequestFunction;
    target[WRAPPED] = original;
    target.request = function tracedRequest(this: unknown, ...args: unknown[]): ClientRequest {
      const sampled = activeTraceSampled();
      if (sampled === undefined) return original.apply(this, args);
      const active = context.active();
      if (!sampled) {
        // Unsampled: only tell the callee so (no span of our own).
        return withTraceHeaders(original.apply(this, args), active);
      }
      const callbackAt = args.findIndex((arg) => typeof arg === 'function');
      // Without a response callback there is no listener of ours to add safely: propagate only.
      if (callbackAt < 0) return withTraceHeaders(original.apply(this, args), active);
      const span = platformTracer(PLATFORM_SCOPE.http).startSpan('HTTP', { kind: SpanKind.CLIENT });
      const onResponse = args[callbackAt] as (response: IncomingMessage) => void;
      let answered = false;
      args[callbackAt] = (response: IncomingMessage) => {
        answered = true;
        endWithResponse(span, response.statusCode ?? 0);
        onResponse(response);
      };
      const request = original.apply(this, args);
      describe(span, request);
      request.once('close', () => {
        if (answered) return;
        span.setAttribute('error.type', 'no_response');
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'the request ended without a response' });
        span.end();
      });
      return withTraceHeaders(request, trace.setSpan(active, span));
    };
  }
}

/** Undoes `traceOutgoingRequests` (tests). */
export function untraceOutgoingRequests(): void {
  for (const transport of [http, https] as Transport[]) {
    const target = transport as unknown as Record<string | symbol, unknown>;
    const original = target[WRAPPED];
    if (!original) continue;
    target.request = original;
    delete target[WRAPPED];
  }
}

/** The headers are still unsent when `request()` returns: the caller writes the body after. */
function withTraceHeaders(request: ClientRequest, carrierContext: ReturnType<typeof context.active>): ClientRequest {
  const headers: Record<string, string> = {};
  propagation.inject(carrierContext, headers);
  for (const [name, value] of Object.entries(headers)) request.setHeader(name, value);
  return request;
}

function describe(span: Span, request: ClientRequest) {
  const host = request.host;
  const port = Number((request as ClientRequest & { agent?: { defaultPort?: number } }).agent?.defaultPort) || undefined;
  span.updateName(request.method);
  span.setAttributes({
    'http.request.method': request.method,
    'server.address': host,
    'server.port': Number(/:(\d+)$/.exec(String(request.getHeader('host') ?? ''))?.[1]) || port,
    'url.full': `${request.protocol}//${request.getHeader('host') ?? host}${request.path}`,
  });
}

function endWithResponse(span: Span, status: number) {
  span.setAttribute('http.response.status_code', status);
  if (status >= 400 && !BUSINESS_OUTCOME_STATUSES.has(status)) {
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
