import http from 'node:http';
import https from 'node:https';
import { gzip } from 'node:zlib';
import { ROOT_CONTEXT, TraceFlags, context, diag, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufWriter, encodeExportRequest, encodeResource, encodeScope, encodeSpan } from './tracing-otlp-encoder';

/**
 * The span processor and OTLP/HTTP protobuf exporter of the default export path, in place of the SDK's
 * `BatchSpanProcessor` + `OTLPTraceExporter`: each sampled span is encoded as it ends (tracing-otlp-encoder.ts)
 * and only its bytes wait for the next export request, not the span object — the batch processor kept up to
 * a thousand spans alive per process, which the garbage collector then moved to the old generation. One
 * request per `maxSpansPerRequest` spans or `delayMs`, at most `maxConcurrentRequests` in flight; beyond
 * `maxQueuedSpans` waiting, new spans are dropped (and counted) rather than letting memory grow while a
 * collector is down. A failed request is dropped too (the SDK's exporter retried, holding the spans longer).
 *
 * Reads the standard variables: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the full URL) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`), `…_HEADERS`, `…_TIMEOUT` and `…_COMPRESSION` (`gzip` or
 * `none`), the `TRACES_` variant winning. Client certificates (`…_CERTIFICATE`) are not supported.
 */
export interface OtlpExportSettings {
  url: URL;
  headers: Record<string, string>;
  timeoutMs: number;
  gzip: boolean;
}

export interface OtlpProcessorLimits {
  maxSpansPerRequest: number;
  maxQueuedSpans: number;
  delayMs: number;
  maxConcurrentRequests: number;
}

const DEFAULT_LIMITS: OtlpProcessorLimits = { maxSpansPerRequest: 1024, maxQueuedSpans: 8192, delayMs: 2000, maxConcurrentRequests: 2 };

export function otlpExportSettings(env: NodeJS.ProcessEnv = process.env): OtlpExportSettings {
  const pick = (name: string) => (env[`OTEL_EXPORTER_OTLP_TRACES_${name}`] ?? env[`OTEL_EXPORTER_OTLP_${name}`] ?? '').trim();
  const tracesEndpoint = (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '').trim();
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim() || 'http://localhost:4318';
  const url = new URL(tracesEndpoint || `${base.replace(/\/+$/, '')}/v1/traces`);
  const headers: Record<string, string> = {};
  for (const pair of pick('HEADERS').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  const timeoutMs = Number(pick('TIMEOUT')) || 10_000;
  const compression = pick('COMPRESSION') || 'none';
  if (compression !== 'gzip' && compression !== 'none') throw new Error(`OTEL_EXPORTER_OTLP_COMPRESSION=${compression} is not supported: use gzip or none`);
  return { url, headers, timeoutMs, gzip: compression === 'gzip' };
}

interface PendingScope {
  scope: Buffer;
  schemaUrl?: string;
  writer: ProtobufWriter;
}

interface ResourceOfSpan {
  attributes: Attributes;
  schemaUrl?: string;
}

export class OtlpProtobufSpanProcessor implements SpanProcessor {
  private readonly limits: OtlpProcessorLimits;
  private readonly agent: http.Agent;
  private readonly scopes = new Map<object, PendingScope>();
  private resource: { source: ResourceOfSpan; encoded: Buffer } | undefined;
  private pendingSpans = 0;
  private inFlight = 0;
  private readonly waiting: Array<{ body: Buffer; spans: number }> = [];
  private waitingSpans = 0;
  private timer: NodeJS.Timeout | undefined;
  private idle: Array<() => void> = [];
  private closed = false;
  /** Whether the current run of queue-full drops was already logged (one warning per run, not per span). */
  private warnedFull = false;
  /** Spans dropped because the queue was full or their request failed (for tests and diagnostics). */
  dropped = 0;

  constructor(
    private readonly settings: OtlpExportSettings = otlpExportSettings(),
    limits: Partial<OtlpProcessorLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const Agent = settings.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: this.limits.maxConcurrentRequests });
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.pendingSpans + this.waitingSpans >= this.limits.maxQueuedSpans) {
      this.dropped += 1;
      if (!this.warnedFull) {
        this.warnedFull = true;
        diag.warn(`OTLP trace export queue full (${this.limits.maxQueuedSpans} spans waiting for ${this.settings.url.href}): dropping new spans until a request gets through`);
      }
      return;
    }
    if (this.resource?.source !== span.resource) this.switchResource(span.resource);
    let pending = this.scopes.get(span.instrumentationScope);
    if (!pending) {
      pending = { scope: encodeScope(span.instrumentationScope), schemaUrl: span.instrumentationScope.schemaUrl, writer: new ProtobufWriter() };
      this.scopes.set(span.instrumentationScope, pending);
    }
    encodeSpan(pending.writer, span);
    this.pendingSpans += 1;
    if (this.pendingSpans >= this.limits.maxSpansPerRequest) this.cut();
    else if (!this.timer) {
      // Outside the request's context: the timer's callback (and the export it sends) must not join its trace.
      this.timer = context.with(ROOT_CONTEXT, () => setTimeout(() => this.cut(), this.limits.delayMs).unref());
    }
  }

  forceFlush(): Promise<void> {
    this.cut();
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    this.agent.destroy();
  }

  /** One process has one resource; a second (tests restarting the SDK) sends what the first collected. */
  private switchResource(resource: ResourceOfSpan): void {
    if (this.resource) this.cut();
    this.resource = { source: resource, encoded: encodeResource(resource) };
  }

  /** Turns the spans encoded so far into one request body and sends it (or queues it behind those in flight). */
  private cut(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingSpans === 0 || !this.resource) return;
    const pending = [...this.scopes.values()].filter((scope) => scope.writer.pos > 0);
    // The spans' bytes are copied once, into the request body; then their writers start over.
    const body = encodeExportRequest(
      this.resource.encoded,
      this.resource.source.schemaUrl,
      pending.map((scope) => ({ scope: scope.scope, schemaUrl: scope.schemaUrl, spans: scope.writer.written() })),
    );
    for (const scope of pending) scope.writer.pos = 0;
    const spans = this.pendingSpans;
    this.pendingSpans = 0;
    this.waiting.push({ body, spans });
    this.waitingSpans += spans;
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxConcurrentRequests && this.waiting.length > 0) {
      const { body, spans } = this.waiting.shift()!;
      this.waitingSpans -= spans;
      this.inFlight += 1;
      context.with(ROOT_CONTEXT, () =>
        this.send(body).then(
          () => {
            this.warnedFull = false;
            this.settled();
          },
          (error: Error) => {
            this.dropped += spans;
            diag.warn(`OTLP trace export of ${spans} spans to ${this.settings.url.href} failed: ${error.message}`);
            this.settled();
          },
        ),
      );
    }
  }

  private settled(): void {
    this.inFlight -= 1;
    this.pump();
    if (this.inFlight === 0 && this.waiting.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private async send(raw: Buffer): Promise<void> {
    const body = this.settings.gzip ? await gzipped(raw) : raw;
    const transport = this.settings.url.protocol === 'https:' ? https : http;
    await new Promise<void>((resolve, reject) => {
      const request = transport.request(
        this.settings.url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: this.settings.timeoutMs,
          headers: {
            ...this.settings.headers,
            'content-type': 'application/x-protobuf',
            'content-length': body.length,
            ...(this.settings.gzip ? { 'content-encoding': 'gzip' } : {}),
          },
        },
        (response) => {
          response.resume();
          response.once('end', () => {
            const status = response.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`the receiver answered ${status}`));
          });
          response.once('error', reject);
        },
      );
      request.once('timeout', () => request.destroy(new Error(`no answer within ${this.settings.timeoutMs} ms`)));
      request.once('error', reject);
      request.end(body);
    });
  }
}

function gzipped(body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(body, (error, out) => (error ? reject(error) : resolve(out))));
}
