'use strict';
/**
 * A local OTLP/HTTP trace receiver for the traced bench variant: accepts what the product's exporter posts
 * to /v1/traces, answers 200 at once (as a collector does) and counts requests, bytes and spans, of
 * OTLP/protobuf (the product's default) and OTLP/JSON requests. It keeps nothing, unless `keep` asks for the
 * decoded JSON requests (test/observability/support/trace-tree.js, which asks the product for JSON).
 */
const http = require('node:http');

/** Spans in one OTLP/JSON ExportTraceServiceRequest. */
function countSpans(body) {
  let spans = 0;
  for (const resource of body?.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
  return spans;
}

/** The fields of one protobuf message: [field number, wire type, value (a Buffer for length-delimited)]. */
function* protobufFields(buffer) {
  let at = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= buffer.length) throw new Error('truncated protobuf');
      const byte = buffer[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  while (at < buffer.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) yield [field, wireType, varint()];
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const length = varint();
      if (at + length > buffer.length) throw new Error('truncated protobuf');
      yield [field, wireType, buffer.subarray(at, at + length)];
      at += length;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
  }
}

/**
 * Spans in one OTLP/protobuf ExportTraceServiceRequest: resource_spans = 1 → scope_spans = 2 → spans = 2
 * (opentelemetry-proto trace/v1), counted without a protobuf library.
 */
function countProtobufSpans(body) {
  let spans = 0;
  for (const [field, type, resource] of protobufFields(body)) {
    if (field !== 1 || type !== 2) continue;
    for (const [scopeField, scopeType, scope] of protobufFields(resource)) {
      if (scopeField !== 2 || scopeType !== 2) continue;
      for (const [spanField, spanType] of protobufFields(scope)) if (spanField === 2 && spanType === 2) spans += 1;
    }
  }
  return spans;
}

function startOtlpReceiver({ keep = false } = {}) {
  const stats = { requests: 0, bytes: 0, spans: 0, undecoded: 0 };
  const kept = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      stats.requests += 1;
      stats.bytes += body.length;
      if ((req.headers['content-type'] ?? '').includes('json')) {
        try {
          const decoded = JSON.parse(body.toString('utf8'));
          stats.spans += countSpans(decoded);
          if (keep) kept.push(decoded);
        } catch {
          stats.undecoded += 1;
        }
      } else if ((req.headers['content-type'] ?? '').includes('protobuf')) {
        try {
          stats.spans += countProtobufSpans(body);
        } catch {
          stats.undecoded += 1;
        }
      } else {
        stats.undecoded += 1;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}`,
        stats: () => ({ ...stats }),
        requests: () => kept,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

module.exports = { startOtlpReceiver, countSpans, countProtobufSpans };
