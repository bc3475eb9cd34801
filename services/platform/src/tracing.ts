/**
 * OpenTelemetry bootstrap. Import this module first in every process's main file (before pg, ioredis or
 * http are loaded) so their instrumentation can patch them. Tracing is off — and costs nothing: no SDK, no
 * exporter, no patched module — unless OTEL_EXPORTER_OTLP_ENDPOINT is set or a test passes its own span
 * processor.
 *
 * Only traces are exported: Prometheus scrapes the metrics (prom-client) and pino writes the logs, so the
 * SDK's default OTLP metric and log exporters are switched off. Sampling follows the standard
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG variables; the default here is parent-based (a caller's
 * sampled flag is obeyed) with every new trace kept — the chart sets `parentbased_traceidratio` and a ratio.
 *
 * Cheap enough to leave on (docs/observability.md, "Cost"): only the instrumentations that say something
 * our own spans do not — HTTP (server and client), pg and ioredis. Koa's instrumentation (a span per
 * middleware, and an exception event for every 409) is replaced by naming the HTTP server span after the
 * matched route (`traceRoute` in the HTTP app); amqplib's by our own producer and consumer spans
 * (messaging/broker.ts, messaging/consumer.ts), because its publish span runs in whichever caller's context
 * Rascal's channel queue happens to serve and overwrote the `traceparent` of every other message.
 */
import type { IncomingMessage, ServerResponse, ClientRequest } from 'node:http';
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { markTracingStarted, markTracingStopped } from './spans';

let sdk: NodeSDK | undefined;

/** Requests that are not a buyer's: probes and scrapes would otherwise be most of the traces. */
const UNTRACED_PATHS = /^\/(health|ready|metrics)(\/|\?|$)/;

/**
 * Answers, not failures: a seat taken by someone else (409), a hold that lapsed (410), a request that breaks
 * a business rule (422). The HTTP instrumentation marks every 4xx a client receives as an error; these are
 * what an on-sale is made of and would flood error views.
 */
export const BUSINESS_OUTCOME_STATUSES: ReadonlySet<number> = new Set([409, 410, 422]);

/** The current stable semantic conventions for the HTTP and database instrumentations (not both sets). */
const STABLE_SEMCONV = 'http,database';

/** Spans kept in memory while the exporter catches up, and spans per export request. */
const EXPORT_QUEUE_SIZE = 8192;
const EXPORT_BATCH_SIZE = 1024;

function clearBusinessOutcome(span: Span, _request: ClientRequest | IncomingMessage, response: IncomingMessage | ServerResponse) {
  // Only a client's response is an IncomingMessage; a server's 4xx is never an error already.
  if ('complete' in response && BUSINESS_OUTCOME_STATUSES.has(response.statusCode ?? 0)) {
    // UNSET cannot undo the ERROR the instrumentation set just before; OK can (and is final).
    span.setStatus({ code: SpanStatusCode.OK });
  }
}

export function startTracing(serviceName: string, spanProcessors?: SpanProcessor[]): boolean {
  if (sdk) return true;
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!spanProcessors && !endpoint) return false;
  // Read by each instrumentation's constructor; an operator's own choice wins.
  process.env.OTEL_SEMCONV_STABILITY_OPT_IN ??= STABLE_SEMCONV;
  // Loaded only now: the SDK, exporter and instrumentations weigh about 30 MB of RSS in every process.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const started = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? serviceName }),
    // No resource detection: the host/process/env detectors run at start and add nothing the service name
    // and the collector's own Kubernetes attributes do not.
    autoDetectResources: false,
    spanProcessors: spanProcessors ?? [
      new BatchSpanProcessor(new OTLPTraceExporter(), { maxQueueSize: EXPORT_QUEUE_SIZE, maxExportBatchSize: EXPORT_BATCH_SIZE }),
    ],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        applyCustomAttributesOnSpan: clearBusinessOutcome,
      }),
      // Queries outside a request, message or span of ours (the outbox poll every second, the expiry
      // timer finding nothing) would each be a trace of their own: noise. Pool checkouts and connects
      // are a span each per query and say nothing the query's own duration does not.
      new PgInstrumentation({
        requireParentSpan: true,
        ignoreConnectSpans: true,
        // Under the stable conventions this version leaves db.namespace empty (it reads a connection field
        // pg never sets); the database name is what tells the booking and event databases apart.
        requestHook: (span, { connection }) => {
          if (connection.database) span.setAttribute('db.namespace', connection.database);
        },
      }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  started.start();
  sdk = started;
  markTracingStarted(() => stopTracing());
  return true;
}

/** Flushes the spans still buffered and stops the SDK. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  markTracingStopped();
  await running?.shutdown();
}
