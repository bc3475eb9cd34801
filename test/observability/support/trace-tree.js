#!/usr/bin/env node
/**
 * Prints one booking's trace as a real OTLP receiver gets it: starts the three product processes from dist
 * (`npm run build` first) in development mode, each exporting OTLP/HTTP to a local receiver, books seat 4 of
 * the demo session and confirms it with one W3C traceparent, waits for the consumer's seat update, and
 * prints the trace as a tree (service, span name, kind, key attributes). docs/observability.md shows its
 * output. Uses its own databases (event_trace_tree, booking_trace_tree) but the real RabbitMQ queue, like
 * `npm start`: run it while nothing else consumes event_service_queue.
 *
 *   node test/observability/support/trace-tree.js
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { ProcessGroup, freePort } = require('../../load/lib/processes');
const { dropDatabase, eventQueueState } = require('../../load/lib/infra');
const { startOtlpReceiver } = require('../../load/lib/otlp-receiver');

const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432';
const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';
const SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';
const SEAT_4 = 'fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd';
const PRICE_TIER_ID = '5525e24a-fb4e-46bd-bebb-046efb9ffefe';
const USER_ID = '123e4567-e89b-12d3-a456-426614174000';
const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const SHOWN = [
  'http.route',
  'http.response.status_code',
  'db.namespace',
  'db.operation.name',
  'db.collection.name',
  'db.query.summary',
  'messaging.operation.type',
  'messaging.destination.name',
  'messaging.rabbitmq.destination.routing_key',
  'ticketing.outcome',
  'ticketing.lock_result',
  'ticketing.result',
];

const value = (attribute) => {
  const v = attribute.value;
  return v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue ?? JSON.stringify(v);
};

/** Flattens OTLP/JSON requests into spans with their service name. */
function spansOf(requests) {
  const spans = [];
  for (const request of requests) {
    for (const resource of request.resourceSpans ?? []) {
      const service = value((resource.resource?.attributes ?? []).find((a) => a.key === 'service.name') ?? { value: { stringValue: '?' } });
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const attributes = Object.fromEntries((span.attributes ?? []).map((a) => [a.key, value(a)]));
          spans.push({ service, scope: scope.scope?.name, ...span, attributes });
        }
      }
    }
  }
  return spans;
}

function tree(spans, rootParent) {
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId || rootParent;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  const lines = [];
  const walk = (parent, depth) => {
    const kids = (children.get(parent) ?? []).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
    for (const span of kids) {
      const ms = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
      const shown = SHOWN.filter((key) => span.attributes[key] !== undefined).map((key) => `${key}=${span.attributes[key]}`);
      const status = span.status?.code === 2 ? ' ERROR' : '';
      lines.push(`${'  '.repeat(depth)}${span.service}: ${span.name} [${KINDS[(span.kind ?? 1) - 1]}${status}] ${ms.toFixed(1)} ms${shown.length ? `  ${shown.join(' ')}` : ''}`);
      walk(span.spanId, depth + 1);
    }
  };
  walk(rootParent, 0);
  return lines;
}

async function main() {
  const queue = await eventQueueState(RABBITMQ_URL);
  if (queue.consumers > 0) throw new Error(`${queue.consumers} consumer(s) already read event_service_queue; stop them first`);
  const receiver = await startOtlpReceiver({ keep: true });
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-tree-'));
  const processes = new ProcessGroup({ logDir });
  try {
    await Promise.all([dropDatabase(POSTGRES_URL, 'event_trace_tree'), dropDatabase(POSTGRES_URL, 'booking_trace_tree')]);
    const [eventPort, consumerPort, bookingPort] = [await freePort(), await freePort(), await freePort()];
    // JSON, which the receiver decodes (the product's default is OTLP/protobuf).
    const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', OTEL_TRACES_SAMPLER: 'parentbased_always_on', OTEL_BSP_SCHEDULE_DELAY: '200' };
    const shared = { LOG_LEVEL: 'warn', RABBITMQ_URL, HOST: '127.0.0.1', ...tracing };
    const eventEnv = { ...shared, DATABASE_URL: `${POSTGRES_URL}/event_trace_tree`, PORT: String(eventPort), METRICS_PORT: String(consumerPort) };
    const bookingEnv = {
      ...shared,
      DATABASE_URL: `${POSTGRES_URL}/booking_trace_tree`,
      PORT: String(bookingPort),
      REDIS_URL: 'redis://127.0.0.1:6379',
      EVENT_SERVICE_URL: `http://127.0.0.1:${eventPort}`,
    };
    await Promise.all([
      processes.run('event-migrate', 'services/event-service/dist/entry-points/migrate-main.js', { ...eventEnv, SEED_DEMO_DATA: 'true' }, { profile: false }),
      processes.run('booking-migrate', 'services/booking-service/dist/entry-points/migrate-main.js', { ...bookingEnv, SEED_DEMO_DATA: 'true' }, { profile: false }),
    ]);
    await Promise.all([
      processes.start('event-api', 'services/event-service/dist/entry-points/api-main.js', { ...eventEnv, OTEL_SERVICE_NAME: 'event-api' }, { readyUrl: `http://127.0.0.1:${eventPort}/ready` }),
      processes.start('event-consumer', 'services/event-service/dist/entry-points/consumer-main.js', { ...eventEnv, OTEL_SERVICE_NAME: 'event-consumer' }, { readyUrl: `http://127.0.0.1:${consumerPort}/ready` }),
      processes.start('booking-api', 'services/booking-service/dist/entry-points/api-main.js', { ...bookingEnv, OTEL_SERVICE_NAME: 'booking-api' }, { readyUrl: `http://127.0.0.1:${bookingPort}/ready` }),
    ]);
    const traceId = randomBytes(16).toString('hex');
    const buyerSpan = randomBytes(8).toString('hex');
    const headers = { 'content-type': 'application/json', 'x-user-id': USER_ID, traceparent: `00-${traceId}-${buyerSpan}-01` };
    const base = `http://127.0.0.1:${bookingPort}`;
    const reserved = await fetch(`${base}/api/v1/reservations`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ session_id: SESSION_ID, seats: [{ session_seat_id: SEAT_4, price_tier_id: PRICE_TIER_ID }] }),
    });
    const reservation = await reserved.json();
    if (reserved.status !== 201) throw new Error(`reserve → ${reserved.status} ${JSON.stringify(reservation)}`);
    const confirmed = await fetch(`${base}/api/v1/reservations/${reservation.id}/confirm`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ payment_id: '99999999-0000-0000-0000-000000000001' }),
    });
    if (confirmed.status !== 200) throw new Error(`confirm → ${confirmed.status} ${await confirmed.text()}`);
    let spans = [];
    for (let waited = 0; waited < 30_000; waited += 250) {
      spans = spansOf(receiver.requests()).filter((span) => span.traceId === traceId);
      if (spans.some((span) => span.name === 'seat_inventory.apply_event')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const services = [...new Set(spans.map((span) => span.service))];
    console.log(`trace ${traceId}: ${spans.length} spans from ${services.join(', ')} (OTLP/HTTP requests received: ${receiver.stats().requests})`);
    console.log(`buyer span ${buyerSpan} (the caller's)`);
    for (const line of tree(spans, buyerSpan)) console.log(`  ${line}`);
  } finally {
    await processes.stopAll();
    await receiver.close();
    await Promise.all([dropDatabase(POSTGRES_URL, 'event_trace_tree'), dropDatabase(POSTGRES_URL, 'booking_trace_tree')]);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`trace-tree failed: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
