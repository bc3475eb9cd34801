/**
 * OpenTelemetry bootstrap. Import this module first in every process's main file. Tracing is off — and
 * costs nothing: no SDK, no exporter, no wrapped function — unless OTEL_EXPORTER_OTLP_ENDPOINT is set or a
 * test passes its own span processor.
 *
 * Only traces are exported: Prometheus scrapes the metrics (prom-client) and pino writes the logs, so the
 * SDK's default OTLP metric and log exporters are switched off. Sampling follows the standard
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG variables; the default here is parent-based (a caller's
 * sampled flag is obeyed) with every new trace kept — the chart sets `parentbased_traceidratio` and a ratio.
 *
 * Cheap enough to leave on (docs/observability.md, "Cost"): no OpenTelemetry instrumentation package is
 * loaded. The spans they made are made by the platform itself, and only where a sampled trace is active:
 * the HTTP server span by the app's first middleware (http/server-span.ts), outgoing calls' propagation and
 * client spans (http/client-span.ts), one span per Postgres statement (db/query-spans.ts) and per Redis
 * command (redis-spans.ts, enabled by the process that uses Redis). The instrumentations did their work —
 * wrapping every query, command, request and response emitter, computing attributes — for unsampled
 * requests too, which is why a 10 % sample cost nearly as much as 100 %. So did the SDK's context manager,
 * a second AsyncLocalStorage taxing every promise: the active context lives in the request context's
 * storage instead (tracing-context.ts). Spans go out as OTLP/protobuf by default, encoded by the platform as
 * each span ends (tracing-otlp-processor.ts).
 */
import { DiagLogLevel, diag } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger } from './logger';
import { traceQueries, untraceQueries } from './db/query-spans';
import { traceOutgoingRequests, untraceOutgoingRequests } from './http/client-span';
import { markTracingStarted, markTracingStopped } from './spans';
import { createExportingSpanProcessor, traceExportProtocol } from './tracing-exporter';
import { RequestStorageContextManager } from './tracing-context';

export { traceRedisCommands } from './redis-spans';

interface TracerProviderLike {
  shutdown(): Promise<void>;
}

let provider: TracerProviderLike | undefined;

/** Spans kept in memory while the exporter catches up, and spans per export request. */
const EXPORT_QUEUE_SIZE = 8192;
const EXPORT_BATCH_SIZE = 1024;

export function startTracing(serviceName: string, spanProcessors?: SpanProcessor[]): boolean {
  if (provider) return true;
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!spanProcessors && !endpoint) return false;
  // Read before anything starts: an unsupported protocol fails the process at start-up, with the reason.
  const protocol = spanProcessors ? undefined : traceExportProtocol();
  // Loaded only now: the SDK and exporter weigh megabytes of RSS in every process.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? serviceName }),
    // No resource detection: the host/process/env detectors run at start and add nothing the service name
    // and the collector's own Kubernetes attributes do not.
    autoDetectResources: false,
    contextManager: new RequestStorageContextManager(),
    spanProcessors: spanProcessors ?? [createExportingSpanProcessor(protocol ?? 'http/protobuf', { maxQueueSize: EXPORT_QUEUE_SIZE, maxExportBatchSize: EXPORT_BATCH_SIZE })],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  // The SDK's and the exporter's own warnings (a refused export, a full queue) go to the process's log; without
  // a diag logger OpenTelemetry drops them silently.
  const log = createLogger(process.env.OTEL_SERVICE_NAME ?? serviceName);
  const fields = (args: unknown[]) => (args.length ? { component: 'opentelemetry', args } : { component: 'opentelemetry' });
  diag.setLogger(
    {
      error: (message, ...args) => log.error(fields(args), message),
      warn: (message, ...args) => log.warn(fields(args), message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  sdk.start();
  traceQueries();
  traceOutgoingRequests();
  provider = sdk;
  markTracingStarted(() => stopTracing());
  return true;
}

/** Flushes the spans still buffered, stops the SDK and unwraps what startTracing wrapped. */
export async function stopTracing(): Promise<void> {
  const running = provider;
  provider = undefined;
  markTracingStopped();
  untraceQueries();
  untraceOutgoingRequests();
  await running?.shutdown();
  diag.disable();
}
