/**
 * OpenTelemetry bootstrap. Import this module first in every process's main file (before koa, pg,
 * ioredis or amqplib are loaded) so their instrumentation can patch them. Tracing is off — and costs
 * nothing: no SDK, no exporter, no patched module — unless OTEL_EXPORTER_OTLP_ENDPOINT is set or a test
 * passes its own span processor.
 *
 * Only traces are exported: Prometheus scrapes the metrics (prom-client) and pino writes the logs, so the
 * SDK's default OTLP metric and log exporters are switched off. Sampling follows the standard
 * OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG variables (default: every trace).
 */
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { markTracingStarted, markTracingStopped } from './spans';

let sdk: NodeSDK | undefined;

/** Requests that are not a buyer's: probes and scrapes would otherwise be most of the traces. */
const UNTRACED_PATHS = /^\/(health|ready|metrics)(\/|\?|$)/;

export function startTracing(serviceName: string, spanProcessors?: SpanProcessor[]): boolean {
  if (sdk) return true;
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!spanProcessors && !endpoint) return false;
  // Loaded only now: the SDK, exporter and instrumentations weigh about 30 MB of RSS in every process.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { KoaInstrumentation } = require('@opentelemetry/instrumentation-koa') as typeof import('@opentelemetry/instrumentation-koa');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { AmqplibInstrumentation } = require('@opentelemetry/instrumentation-amqplib') as typeof import('@opentelemetry/instrumentation-amqplib');
  const { resourceFromAttributes } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { ATTR_SERVICE_NAME } = require('@opentelemetry/semantic-conventions') as typeof import('@opentelemetry/semantic-conventions');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const started = new NodeSDK({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME ?? serviceName }),
    spanProcessors: spanProcessors ?? [new BatchSpanProcessor(new OTLPTraceExporter())],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? '') }),
      new KoaInstrumentation(),
      // Queries outside a request, message or span of ours (the outbox poll every second, the expiry
      // timer finding nothing) would each be a trace of their own: noise.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
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
