'use strict';
/**
 * A local OTLP/HTTP trace receiver for the traced bench variant: accepts what the product's exporter posts
 * to /v1/traces, answers 200 at once (as a collector does) and counts requests, bytes and spans (OTLP/JSON,
 * the exporter's default encoding; protobuf bodies are counted in bytes only). It keeps nothing, unless
 * `keep` asks for the decoded requests (test/observability/support/trace-tree.js).
 */
const http = require('node:http');

/** Spans in one OTLP/JSON ExportTraceServiceRequest. */
function countSpans(body) {
  let spans = 0;
  for (const resource of body?.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
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

module.exports = { startOtlpReceiver, countSpans };
