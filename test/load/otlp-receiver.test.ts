import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { countProtobufSpans, countSpans } = require('./lib/otlp-receiver');

/** 3 + 4 finished spans of two instrumentation scopes, with attributes of every wire type. */
function finishedSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  for (const [scope, count] of [['scope-a', 3], ['scope-b', 4]] as const) {
    for (let i = 0; i < count; i++) provider.getTracer(scope).startSpan(`span ${i}`, { attributes: { text: 'x'.repeat(300), port: 5432, ratio: 0.5, ok: true } }).end();
  }
  return exporter.getFinishedSpans();
}

describe('the bench OTLP receiver counts spans', () => {
  test('when the exporter sends OTLP/protobuf, then every span of every scope is counted', () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(finishedSpans())!);
    expect(countProtobufSpans(body)).toBe(7);
  });

  test('when it sends OTLP/JSON, then the same spans are counted', () => {
    const body = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(finishedSpans())!).toString('utf8'));
    expect(countSpans(body)).toBe(7);
  });

  test('when a protobuf body is cut short, then counting fails instead of guessing', () => {
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(finishedSpans())!);
    expect(() => countProtobufSpans(body.subarray(0, body.length - 3))).toThrow();
  });
});
