import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * The OTLP/HTTP trace exporter for the standard `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` (or
 * `OTEL_EXPORTER_OTLP_PROTOCOL`): `http/protobuf`, the OpenTelemetry default and ours, or `http/json`.
 * Protobuf requests are 2.4 times smaller than JSON for our spans, and encoded by the platform itself as each
 * span ends (docs/observability.md, "Cost"); JSON is for a receiver that reads JSON only (the trace-tree script).
 * gRPC is not offered: it would load `@grpc/grpc-js` in every process for no gain over HTTP to a collector.
 */
export type TraceExportProtocol = 'http/protobuf' | 'http/json';

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];

/** The protocol the environment asks for; throws a clear error at start-up for one we do not offer. */
export function traceExportProtocol(env: NodeJS.ProcessEnv = process.env): TraceExportProtocol {
  const variable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const value = (env[variable] ?? '').trim() || 'http/protobuf';
  if (!PROTOCOLS.includes(value)) throw new Error(`${variable}=${value} is not supported: use http/protobuf (default) or http/json`);
  return value as TraceExportProtocol;
}

/**
 * The span processor that exports: for `http/protobuf` our own, which encodes each span as it ends
 * (tracing-otlp-processor.ts); for `http/json` the SDK's batch processor and OTLP/JSON exporter.
 */
export function createExportingSpanProcessor(protocol: TraceExportProtocol, limits: { maxQueueSize: number; maxExportBatchSize: number }): SpanProcessor {
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
    return new BatchSpanProcessor(new OTLPTraceExporter(), limits);
  }
  const { OtlpProtobufSpanProcessor } = require('./tracing-otlp-processor') as typeof import('./tracing-otlp-processor');
  return new OtlpProtobufSpanProcessor(undefined, { maxQueuedSpans: limits.maxQueueSize, maxSpansPerRequest: limits.maxExportBatchSize });
  /* eslint-enable @typescript-eslint/no-require-imports */
}
