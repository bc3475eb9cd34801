/**
 * Child process for the trace test: the whole product in-process (test/support/system.ts) with tracing on
 * and an in-memory span exporter. It runs in plain Node, not under jest, because the OpenTelemetry
 * instrumentations patch modules through Node's own require (require-in-the-middle hooks
 * Module.prototype.require); jest loads modules through its own registry and hands the code a mock of
 * `module`, so under jest not even http gets patched. TypeScript is compiled on the fly with the same swc
 * options as jest, and @ticketing/platform resolves to its sources, as jest's moduleNameMapper does.
 *
 * Protocol (IPC): sends {type: 'ready', eventUrl, bookingUrl, consumerUrl}; answers {type: 'spans'} with
 * {type: 'spans', spans}; on {type: 'stop'} stops everything, deletes its RabbitMQ namespace and exits.
 */
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PLATFORM_SRC = path.join(ROOT, 'services', 'platform', 'src');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveTicketingPlatform(request, ...rest) {
  if (request === '@ticketing/platform') return path.join(PLATFORM_SRC, 'index.ts');
  if (request.startsWith('@ticketing/platform/')) return path.join(PLATFORM_SRC, `${request.slice('@ticketing/platform/'.length)}.ts`);
  return resolveFilename.call(this, request, ...rest);
};

// Tracing first: nothing that the instrumentations patch (http, koa, pg, ioredis, amqplib) is loaded yet.
const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { startTracing, stopTracing, traceRedisCommands } = require('@ticketing/platform/tracing');
const { Pipeline, Redis } = require('ioredis');

const exporter = new InMemorySpanExporter();
// As the booking API's instrumentation.ts does.
if (startTracing('ticketing-in-process', [new SimpleSpanProcessor(exporter)])) traceRedisCommands(Redis, Pipeline);

// Remember the RabbitMQ namespace startSystem picks, to delete it at the end.
const infraPath = path.join(ROOT, 'test', 'support', 'infra.ts');
const infra = require(infraPath);
let namespace;
require.cache[infraPath].exports = {
  ...infra,
  uniqueBrokerNamespace: (label) => (namespace = infra.uniqueBrokerNamespace(label)),
};

const { startSystem } = require(path.join(ROOT, 'test', 'support', 'system.ts'));
const { BrokerAsPromised } = require('rascal');
const { brokerConfig } = require('@ticketing/platform');

function serialize(span) {
  return {
    name: span.name,
    kind: span.kind,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    scope: span.instrumentationScope.name,
    service: span.resource.attributes['service.name'],
    attributes: span.attributes,
    status: span.status.code,
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    events: span.events.map((event) => event.name),
  };
}

async function main() {
  const label = process.env.TRACED_SYSTEM_LABEL ?? 'obs_trace';
  const system = await startSystem(label);
  process.on('message', async (message) => {
    if (message.type === 'spans') {
      process.send({ type: 'spans', spans: exporter.getFinishedSpans().map(serialize) });
    } else if (message.type === 'stop') {
      await system.stop();
      if (namespace) {
        const broker = await BrokerAsPromised.create(brokerConfig({ url: infra.RABBITMQ_URL, namespace }));
        await broker.nuke();
      }
      await stopTracing();
      process.send({ type: 'stopped' }, () => process.exit(0));
    }
  });
  process.send({ type: 'ready', eventUrl: system.eventUrl, bookingUrl: system.bookingUrl, consumerUrl: system.consumerUrl });
}

main().catch((error) => {
  process.stderr.write(`traced system failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
