/**
 * One buyer, one trace: a booking and its confirm, sent with the buyer's W3C `traceparent`, produce one
 * connected tree of spans across the booking API, the event API (REST hold), the outbox, RabbitMQ and the
 * event consumer's seat update — with the HTTP, Koa, pg, ioredis and amqplib instrumentation's spans in it,
 * and the trace id on the services' log lines.
 *
 * The product runs in a child process (support/traced-system-child.js): under jest the instrumentations
 * cannot patch anything (jest's module registry bypasses Node's require, which require-in-the-middle hooks),
 * so this is where tracing is proven the way the processes run it.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { startTracing, stopTracing } from '@ticketing/platform/tracing';
import { tracingEnabled, withSpan } from '@ticketing/platform';
import { eventually, request } from '../support/http';
import { startTracedSystem, type ExportedSpan, type TracedSystem } from './support/traced-system';

const SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';
const SEAT_4 = 'fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd';
const PRICE_TIER_ID = '5525e24a-fb4e-46bd-bebb-046efb9ffefe';
const USER_ID = '123e4567-e89b-12d3-a456-426614174000';
const PAYMENT_ID = '99999999-0000-0000-0000-000000000001';
const LABEL = 'obs_trace';

const INSTRUMENTATION = {
  http: '@opentelemetry/instrumentation-http',
  koa: '@opentelemetry/instrumentation-koa',
  pg: '@opentelemetry/instrumentation-pg',
  ioredis: '@opentelemetry/instrumentation-ioredis',
  amqplib: '@opentelemetry/instrumentation-amqplib',
};

describe('tracing off', () => {
  test('without OTEL_EXPORTER_OTLP_ENDPOINT no SDK starts and our spans are plain calls', async () => {
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    try {
      expect(startTracing('off-test')).toBe(false);
      expect(tracingEnabled()).toBe(false);
      const seen: unknown[] = [];
      await expect(withSpan('t', 'step', {}, async (span) => (seen.push(span), 42))).resolves.toBe(42);
      expect(seen).toEqual([undefined]);
    } finally {
      if (saved !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
      await stopTracing();
    }
  });
});

describe('one buyer, one trace (booking + confirm, across both services, RabbitMQ and the consumer)', () => {
  let system: TracedSystem;
  const traceId = randomBytes(16).toString('hex');
  const buyerSpanId = randomBytes(8).toString('hex');
  const traceparent = `00-${traceId}-${buyerSpanId}-01`;
  let trace: ExportedSpan[] = [];
  let reservationId: string;

  beforeAll(async () => {
    system = await startTracedSystem(LABEL);
    const asBuyer = { 'X-User-ID': USER_ID, traceparent };
    const reserved = await request(system.bookingUrl, 'POST', '/api/v1/reservations', {
      headers: asBuyer,
      body: { session_id: SESSION_ID, seats: [{ session_seat_id: SEAT_4, price_tier_id: PRICE_TIER_ID }] },
    });
    expect(reserved.status).toBe(201);
    reservationId = reserved.body.id;
    const confirmed = await request(system.bookingUrl, 'POST', `/api/v1/reservations/${reservationId}/confirm`, {
      headers: asBuyer,
      body: { payment_id: PAYMENT_ID },
    });
    expect(confirmed.status).toBe(200);
    // The consumer's seat update is the last span of the trace; span export waits for the resource detectors.
    trace = await eventually(
      async () => {
        const spans = (await system.spans()).filter((span) => span.traceId === traceId);
        return spans.some((span) => span.name === 'seat_inventory.apply_event') ? spans : undefined;
      },
      20_000,
      200,
    ) ?? [];
  }, 120_000);

  afterAll(() => system?.stop(), 60_000);

  const named = (name: string) => {
    const found = trace.filter((span) => span.name === name);
    expect({ name, count: found.length }).toEqual({ name, count: 1 });
    return found[0];
  };
  const byId = () => new Map(trace.map((span) => [span.spanId, span]));
  /** The span's ancestors' names (and instrumentation), nearest first, up to the buyer's span. */
  const ancestry = (span: ExportedSpan): string[] => {
    const spans = byId();
    const chain: string[] = [];
    for (let parent = span.parentSpanId; parent && parent !== buyerSpanId; parent = spans.get(parent)?.parentSpanId) {
      const found = spans.get(parent);
      if (!found) throw new Error(`span ${span.name} has a parent ${parent} outside the trace`);
      chain.push(`${found.scope.replace('@opentelemetry/instrumentation-', '')}:${found.name}`);
    }
    return chain;
  };
  const inOrder = (chain: string[], expected: RegExp[]) => {
    let at = 0;
    for (const step of chain) if (at < expected.length && expected[at].test(step)) at++;
    expect({ chain, matched: at }).toEqual({ chain, matched: expected.length });
  };

  test('every span of the buyer trace hangs from another span of it, or from the buyer’s own span', () => {
    expect(trace.length).toBeGreaterThan(20);
    const ids = new Set(trace.map((span) => span.spanId));
    const orphans = trace.filter((span) => span.parentSpanId !== buyerSpanId && !ids.has(span.parentSpanId ?? ''));
    expect(orphans.map((span) => `${span.scope} ${span.name}`)).toEqual([]);
    // Exactly the two requests the buyer sent start from the buyer's span.
    const roots = trace.filter((span) => span.parentSpanId === buyerSpanId);
    expect(roots.map((span) => [span.scope, span.kind])).toEqual([
      [INSTRUMENTATION.http, SpanKind.SERVER],
      [INSTRUMENTATION.http, SpanKind.SERVER],
    ]);
  });

  test('the booking: booking API → lock (Redis) → REST hold → event API → seat inventory (Postgres)', () => {
    const place = named('reservation.place');
    expect(place.attributes).toMatchObject({ 'ticketing.reservation_id': reservationId, 'ticketing.outcome': 'created' });
    const lock = named('seat_lock.acquire');
    expect(lock.attributes['ticketing.lock_result']).toBe('acquired');
    expect(ancestry(lock)).toEqual(expect.arrayContaining(['booking-service:reservation.place']));
    expect(trace.some((span) => span.scope === INSTRUMENTATION.ioredis && span.parentSpanId === lock.spanId)).toBe(true);

    inOrder(ancestry(named('seat_inventory.hold')), [
      /^koa:router - \/api\/internal\/sessions\/:id\/seats\/reserve$/,
      /^http:POST \/api\/internal\/sessions\/:id\/seats\/reserve$/, // the event API's server span
      /^http:POST$/, // the booking API's client call
      /^booking-service:event_service\.hold$/,
      /^booking-service:reservation\.place$/,
      /^koa:router - \/api\/v1\/reservations$/,
      /^http:POST \/api\/v1\/reservations$/, // the buyer's request
    ]);
  });

  test('the confirm: booking API → outbox row → relay publish → RabbitMQ → consumer → seat sold (Postgres)', () => {
    const confirm = named('reservation.confirm');
    expect(confirm.attributes['ticketing.outcome']).toBe('confirmed');
    const publish = named('outbox.publish');
    expect(publish.attributes['messaging.rabbitmq.destination.routing_key']).toBe('reservation.confirmed');
    // The relay publishes from a timer; the stored trace context makes the confirm its parent.
    expect(ancestry(publish)[0]).toBe('booking-service:reservation.confirm');

    const apply = named('seat_inventory.apply_event');
    expect(apply.attributes).toMatchObject({ 'ticketing.routing_key': 'reservation.confirmed', 'ticketing.result': 'applied' });
    inOrder(ancestry(apply), [
      /^@ticketing\/platform:process reservation\.confirmed$/,
      /^amqplib:.*event_service_queue process$/,
      /^amqplib:publish .*ticketing_events$/,
      /^booking-service:outbox\.publish$/,
      /^booking-service:reservation\.confirm$/,
      /^koa:router - \/api\/v1\/reservations\/:id\/confirm$/,
      /^http:POST \/api\/v1\/reservations\/:id\/confirm$/,
    ]);
    const consumerQueries = trace.filter((span) => span.scope === INSTRUMENTATION.pg && ancestry(span).includes('booking-service:outbox.publish'));
    expect(consumerQueries.map((span) => span.attributes['db.namespace'] ?? span.attributes['db.name'])).toEqual(
      expect.arrayContaining([`event_${LABEL}`]),
    );
  });

  test('HTTP, Koa, pg, ioredis and amqplib instrumentation all contribute, in both databases', () => {
    const scopes = new Set(trace.map((span) => span.scope));
    for (const scope of Object.values(INSTRUMENTATION)) expect([...scopes]).toContain(scope);
    const databases = new Set(
      trace.filter((span) => span.scope === INSTRUMENTATION.pg).map((span) => span.attributes['db.namespace'] ?? span.attributes['db.name']),
    );
    expect([...databases]).toEqual(expect.arrayContaining([`booking_${LABEL}`, `event_${LABEL}`]));
    expect(trace.filter((span) => span.scope === INSTRUMENTATION.amqplib).map((span) => span.kind).sort()).toEqual(
      expect.arrayContaining([SpanKind.PRODUCER, SpanKind.CONSUMER]),
    );
  });

  test('log lines of all three processes carry the trace id (and span ids of this trace)', () => {
    const ours = system.logLines().filter((line) => line.trace_id === traceId);
    expect(new Set(ours.map((line) => line.service))).toEqual(new Set(['booking-service', 'event-service', 'event-consumer']));
    const spanIds = new Set(trace.map((span) => span.spanId));
    for (const line of ours) expect(spanIds.has(String(line.span_id))).toBe(true);
    expect(ours.find((line) => line.service === 'event-consumer' && line.msg === 'Received message')).toBeDefined();
  });
});
