import { traceExportProtocol } from '../src/tracing-exporter';

describe('traceExportProtocol', () => {
  test('when no protocol is set, then traces go out as OTLP/protobuf', () => {
    expect(traceExportProtocol({})).toBe('http/protobuf');
  });

  test('when the traces protocol is set, then it wins over the general one', () => {
    expect(traceExportProtocol({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toBe('http/json');
    expect(traceExportProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
  });

  test('when gRPC (or anything else) is asked for, then start-up fails naming the variable', () => {
    expect(() => traceExportProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
  });
});
