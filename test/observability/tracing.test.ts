/**
 * One buyer, one trace: a booking and its confirm, sent with the buyer's W3C `traceparent`, produce one
 * connected tree of spans across the booking API, the event API (REST hold), the outbox, RabbitMQ and the
 * event consumer's seat update — with the platform's HTTP, Postgres and Redis spans and our own producer
 * and consumer spans in it, one set of (stable) semantic-convention names, and the trace id on the
 * services' log lines. Business answers (a 409 seat conflict) are not errors in it.
 *
 * The product runs in a child process (support/traced-system-child.js), as its processes run it: plain
 * Node, the platform compiled from its sources, the modules the platform wraps (pg, http, ioredis) shared
 * with the product rather than copied per test file by jest's module registry.
 */
import { randomBytes } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { startTracing, stopTracing } from '@ticketing/platform/tracing';
import { tracingEnabled, withSpan } from '@ticketing/platform';
import { eventually, request } from '../support/http';
import { testDatabaseName } from '../support/infra';
import { startTracedSystem, type ExportedSpan, type TracedSystem } from './support/traced-system';

const SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';
const SEAT_4 = 'fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd';
const PRICE_TIER_ID = '5525e24a-fb4e-46bd-bebb-046efb9ffefe';
const USER_ID = '123e4567-e89b-12d3-a456-426614174000';
const PAYMENT_ID = '99999999-0000-0000-0000-000000000001';
const LABEL = 'obs_trace';

/** The platform's own HTTP, Postgres and Redis spans (they replace OpenTelemetry's instrumentation packages). */
const INSTRUMENTATION = {
  http: '@ticketing/platform/http',
  pg: '@ticketing/platform/pg',
  ioredis: '@ticketing/platform/ioredis',
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
      chain.push(`${found.scope.replace('@ticketing/platform/', '')}:${found.name}`);
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

  test('the booking: booking API → lock → REST hold → event API → seat inventory (Postgres)', () => {
    const place = named('reservation.place');
    expect(place.attributes).toMatchObject({ 'ticketing.reservation_id': reservationId, 'ticketing.outcome': 'created' });
    const lock = named('seat_lock.acquire');
    expect(lock.attributes['ticketing.lock_result']).toBe('acquired');
    expect(ancestry(lock)).toEqual(expect.arrayContaining(['booking-service:reservation.place']));
    // The lock's Redis commands (acquire, release) and the waiting-room check make no span: the acquire is
    // the lock span itself, the release the tail of the placement (docs/observability.md, "Cost").
    // (The event API's seat-map stream commands hang under its own spans.)
    const bookingRedis = trace.filter(
      (span) => span.scope === INSTRUMENTATION.ioredis && ancestry(span).includes('http:POST /api/v1/reservations') && !ancestry(span).some((step) => step.startsWith('event-service:')),
    );
    expect(bookingRedis.map((span) => span.name)).toEqual([]);

    expect(ancestry(named('seat_inventory.hold'))).toEqual([
      'http:POST /api/internal/sessions/:id/seats/reserve', // the event API's server span, named after its route
      'http:POST', // the booking API's client call
      'booking-service:event_service.hold',
      'booking-service:reservation.place',
      'http:POST /api/v1/reservations', // the buyer's request
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
      /^booking-service:outbox\.publish$/,
      /^booking-service:reservation\.confirm$/,
      /^http:POST \/api\/v1\/reservations\/:id\/confirm$/,
    ]);
    const consumerQueries = trace.filter((span) => span.scope === INSTRUMENTATION.pg && ancestry(span).includes('booking-service:outbox.publish'));
    expect(consumerQueries.map((span) => span.attributes['db.namespace'])).toEqual(expect.arrayContaining([testDatabaseName(`event_${LABEL}`)]));
  });

  test('HTTP, Postgres (both databases) and Redis spans are in the trace next to our producer and consumer spans, and no instrumentation package', () => {
    const scopes = new Set(trace.map((span) => span.scope));
    for (const scope of Object.values(INSTRUMENTATION)) expect([...scopes]).toContain(scope);
    const databases = new Set(trace.filter((span) => span.scope === INSTRUMENTATION.pg).map((span) => span.attributes['db.namespace']));
    expect([...databases]).toEqual(expect.arrayContaining([testDatabaseName(`booking_${LABEL}`), testDatabaseName(`event_${LABEL}`)]));
    expect(named('outbox.publish').kind).toBe(SpanKind.PRODUCER);
    expect(named('process reservation.confirmed').kind).toBe(SpanKind.CONSUMER);
    // No OpenTelemetry instrumentation package runs: their wrappers cost as much for unsampled requests as
    // for sampled ones (and amqplib's publish span put messages in other buyers' traces).
    expect([...scopes].filter((scope) => /^@opentelemetry\/instrumentation-/.test(scope))).toEqual([]);
  });

  test('every span uses the current stable semantic-convention names, never the old ones', () => {
    const OLD = ['http.method', 'http.status_code', 'http.url', 'http.target', 'net.peer.name', 'net.host.name', 'db.name', 'db.system', 'db.statement', 'db.operation', 'messaging.rabbitmq.routing_key', 'messaging.operation', 'messaging.destination'];
    const old = trace.flatMap((span) => Object.keys(span.attributes).filter((key) => OLD.includes(key)).map((key) => `${span.name}: ${key}`));
    expect(old).toEqual([]);
    const server = trace.find((span) => span.scope === INSTRUMENTATION.http && span.kind === SpanKind.SERVER)!;
    expect(server.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': expect.any(Number), 'http.route': expect.any(String) });
    const query = trace.find((span) => span.scope === INSTRUMENTATION.pg)!;
    expect(query.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.namespace': expect.any(String) });
    for (const messaging of [named('outbox.publish'), named('process reservation.confirmed')]) {
      expect(messaging.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': expect.any(String),
        'messaging.destination.name': expect.any(String),
        'messaging.rabbitmq.destination.routing_key': 'reservation.confirmed',
        'messaging.message.id': expect.any(String),
      });
    }
  });

  test('when a second buyer hits the taken seat (409), then no span of that trace is an error or carries an exception', async () => {
    const conflictTrace = randomBytes(16).toString('hex');
    const conflict = await request(system.bookingUrl, 'POST', '/api/v1/reservations', {
      headers: { 'X-User-ID': '223e4567-e89b-12d3-a456-426614174001', traceparent: `00-${conflictTrace}-${randomBytes(8).toString('hex')}-01` },
      body: { session_id: SESSION_ID, seats: [{ session_seat_id: SEAT_4, price_tier_id: PRICE_TIER_ID }] },
    });
    expect(conflict.status).toBe(409);
    const spans =
      (await eventually(
        async () => {
          const found = (await system.spans()).filter((span) => span.traceId === conflictTrace);
          return found.some((span) => span.name === 'POST /api/v1/reservations') ? found : undefined;
        },
        10_000,
        100,
      )) ?? [];
    // The booking API asked the event API for the seat (its answer, 409, crossed two services).
    expect(spans.filter((span) => span.scope === INSTRUMENTATION.http).map((span) => span.attributes['http.response.status_code'])).toEqual(
      expect.arrayContaining([409]),
    );
    const ERROR = 2;
    expect(spans.filter((span) => span.status === ERROR || span.events.includes('exception')).map((span) => span.name)).toEqual([]);
  });

  test('log lines of all three processes carry the trace id (and span ids of this trace)', () => {
    const ours = system.logLines().filter((line) => line.trace_id === traceId);
    expect(new Set(ours.map((line) => line.service))).toEqual(new Set(['booking-service', 'event-service', 'event-consumer']));
    const spanIds = new Set(trace.map((span) => span.spanId));
    for (const line of ours) expect(spanIds.has(String(line.span_id))).toBe(true);
    expect(ours.find((line) => line.service === 'event-consumer' && line.msg === 'Received message')).toBeDefined();
  });
});
