/**
 * The default export path (OTLP/HTTP protobuf, tracing-otlp-processor.ts): every sampled span is encoded as it
 * ends and sent in batches to a real HTTP receiver. What the receiver gets must be valid OTLP: it is compared,
 * byte for byte, with what OpenTelemetry's own serializer (`@opentelemetry/otlp-transformer`, the one the SDK's
 * exporter used) writes for the same spans — spans of two scopes, every attribute type, events, links, an
 * error status, a remote parent.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, diag, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { withSpan } from '../src/spans';
import { startTracing, stopTracing } from '../src/tracing';
import { OtlpProtobufSpanProcessor, otlpExportSettings, type OtlpProcessorLimits } from '../src/tracing-otlp-processor';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A receiver that answers `status` to every request and keeps what it got. */
async function startReceiver(status = 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** A tracer provider sending through our processor and, for comparison, keeping the same spans in memory. */
function providerFor(receiver: Receiver, limits: Partial<OtlpProcessorLimits> = {}, env: NodeJS.ProcessEnv = {}) {
  const processor = new OtlpProtobufSpanProcessor(otlpExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, ...env }), limits);
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-export-test', 'service.instance.id': 'é-1' }),
    spanProcessors: [processor, new SimpleSpanProcessor(memory)],
  });
  return { processor, memory, provider };
}

/** Spans with every field our encoder writes: two scopes, all attribute types, an event, a link, an error. */
function makeSpans(provider: BasicTracerProvider): void {
  const http = provider.getTracer('@ticketing/platform/http');
  const ours = provider.getTracer('booking-service', '1.2.3');
  const caller = trace.setSpanContext(ROOT_CONTEXT, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const server = http.startSpan('POST /api/v1/reservations', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.response.status_code': 201, 'url.path': '/api/v1/r\u00e9servations' } }, caller);
  const inServer = trace.setSpan(caller, server);
  const step = ours.startSpan(
    'reservation.place',
    {
      attributes: {
        'ticketing.seat_count': 2,
        'ticketing.negative': -7,
        'ticketing.ratio': 0.25,
        'ticketing.large': 2 ** 60,
        'ticketing.ok': true,
        'ticketing.seats': ['a', 'b'],
        'ticketing.long': 'x'.repeat(300),
      },
      links: [{ context: server.spanContext(), attributes: { 'ticketing.batch_index': 0 } }],
    },
    inServer,
  );
  step.addEvent('retry', { attempt: 1 });
  step.recordException(new Error('the event service did not answer'));
  step.setStatus({ code: SpanStatusCode.ERROR, message: 'hold failed' });
  step.end();
  server.end();
}

describe('OTLP/protobuf export', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => receiver.close());

  test('when spans end, then the receiver gets exactly the bytes OpenTelemetry’s serializer writes for them', async () => {
    const { processor, memory, provider } = providerFor(receiver);
    makeSpans(provider);
    await processor.forceFlush();
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans() as ReadableSpan[])!);
    expect(request.body.toString('hex')).toBe(expected.toString('hex'));
    await provider.shutdown();
  });

  test('when more spans end than one request holds, then they go out in several requests, each valid on its own', async () => {
    const { processor, memory, provider } = providerFor(receiver, { maxSpansPerRequest: 2 });
    for (let i = 0; i < 3; i++) makeSpans(provider);
    await processor.forceFlush();
    const spans = memory.getFinishedSpans() as ReadableSpan[];
    const expected = [spans.slice(0, 2), spans.slice(2, 4), spans.slice(4, 6)].map((batch) => Buffer.from(ProtobufTraceSerializer.serializeRequest(batch)!).toString('hex'));
    expect(receiver.received.map((request) => request.body.toString('hex'))).toEqual(expected);
    await provider.shutdown();
  });

  test('when gzip and headers are configured, then the body is compressed and the headers sent', async () => {
    const { processor, memory, provider } = providerFor(receiver, {}, { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s%3Dcret, x-tenant = box-office' });
    makeSpans(provider);
    await processor.forceFlush();
    const [request] = receiver.received;
    expect(request.headers).toMatchObject({ 'content-encoding': 'gzip', 'x-api-key': 's=cret', 'x-tenant': 'box-office' });
    expect(gunzipSync(request.body).toString('hex')).toBe(Buffer.from(ProtobufTraceSerializer.serializeRequest(memory.getFinishedSpans() as ReadableSpan[])!).toString('hex'));
    await provider.shutdown();
  });

  /** What OpenTelemetry's diag logger is told at warn level while `work` runs (the process log, in production). */
  async function diagWarnings(work: () => Promise<void>): Promise<string[]> {
    const warnings: string[] = [];
    const record = (message: string) => warnings.push(message);
    const ignore = () => undefined;
    diag.setLogger({ error: record, warn: record, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
    try {
      await work();
    } finally {
      diag.disable();
    }
    return warnings;
  }

  test('when more spans wait than the queue holds, then the newest are dropped, counted and logged once, not kept', async () => {
    const { processor, provider } = providerFor(receiver, { maxQueuedSpans: 3, maxSpansPerRequest: 100, delayMs: 60_000 });
    const warnings = await diagWarnings(async () => {
      for (let i = 0; i < 3; i++) makeSpans(provider);
    });
    expect(processor.dropped).toBe(3);
    expect(warnings).toEqual([expect.stringMatching(/queue full \(3 spans waiting/)]);
    await processor.forceFlush();
    expect(receiver.received).toHaveLength(1);
    await provider.shutdown();
  });

  test('when the receiver refuses a request, then its spans are counted as dropped and logged, and flushing still ends', async () => {
    const refusing = await startReceiver(503);
    try {
      const { processor, provider } = providerFor(refusing);
      const warnings = await diagWarnings(async () => {
        makeSpans(provider);
        await processor.forceFlush();
      });
      expect(refusing.received).toHaveLength(1);
      expect(processor.dropped).toBe(2);
      expect(warnings).toEqual([expect.stringMatching(/export of 2 spans .* failed/)]);
      await provider.shutdown();
    } finally {
      await refusing.close();
    }
  });
});

describe('the export request inside a traced process', () => {
  let receiver: Receiver;
  const memory = new InMemorySpanExporter();
  let processor: OtlpProtobufSpanProcessor;

  beforeAll(async () => {
    receiver = await startReceiver();
    processor = new OtlpProtobufSpanProcessor(otlpExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }), { maxSpansPerRequest: 1 });
    expect(startTracing('otlp-export-test', [processor, new SimpleSpanProcessor(memory)])).toBe(true);
  });
  afterAll(async () => {
    await stopTracing();
    await receiver.close();
  });

  test('when a batch fills up inside a sampled request, then its export makes no span and carries no traceparent', async () => {
    await withSpan('otlp-export-test', 'request', {}, async () => {
      await withSpan('otlp-export-test', 'step', {}, async () => undefined);
      // The step's end filled a batch of one: its request was sent from inside this sampled trace.
      await new Promise((resolve) => setTimeout(resolve, 50));
    });
    await processor.forceFlush();
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    expect(receiver.received.filter((request) => request.headers.traceparent !== undefined)).toEqual([]);
    expect(memory.getFinishedSpans().map((span) => span.name)).toEqual(['step', 'request']);
  });
});

describe('export settings from the environment', () => {
  test('the traces endpoint wins and is used as given; the general one gets /v1/traces', () => {
    expect(otlpExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).url.href).toBe('http://collector:4318/v1/traces');
    expect(otlpExportSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo/otlp' }).url.href).toBe('https://tempo/otlp');
  });

  test('timeout and compression read the TRACES_ variant first; an unknown compression fails at start-up', () => {
    expect(otlpExportSettings({ OTEL_EXPORTER_OTLP_TIMEOUT: '5000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500' }).timeoutMs).toBe(2500);
    expect(otlpExportSettings({}).gzip).toBe(false);
    expect(() => otlpExportSettings({ OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' })).toThrow(/OTEL_EXPORTER_OTLP_COMPRESSION=zstd is not supported/);
  });
});
