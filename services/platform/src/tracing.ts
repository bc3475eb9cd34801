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
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { markTracingStarted, markTracingStopped } from './spans';

let sdk: NodeSDK | undefined;

/** Requests that are not a buyer's: probes and scrapes would otherwise be most of the traces. */
const UNTRACED_PATHS = /^\/(health|ready|metrics)(\/|\?|$)/;

export function startTracing(serviceName: string, spanProcessors?: SpanProcessor[]): boolean {
  if (sdk) return true;
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!spanProcessors && !endpoint) return false;
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
