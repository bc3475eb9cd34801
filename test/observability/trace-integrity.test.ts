/**
 * Per-message trace integrity under concurrency (issue 17): 50 buyers confirm at once, and an expiry sweep
 * expires a batch of holds; every reservation's trace must hold exactly its own outbox publish and its own
 * consumer process span — none of another reservation's — and consumer batches follow OpenTelemetry's
 * messaging conventions (a `process batch` span in a trace of its own, linked to every message's producer
 * span, and each message's own `process` span linked back to it).
 *
 * Runs the product in a child process with tracing on (see tracing.test.ts for why).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { SpanKind } from '@opentelemetry/api';
import { POSTGRES_URL, testDatabaseName } from '../support/infra';
import { eventually, request } from '../support/http';
import { startTracedSystem, type ExportedSpan, type TracedSystem } from './support/traced-system';

const LABEL = 'obs_integrity';
const CONFIRMS = 50;
const EXPIRIES = 20;

interface Buyer {
  userId: string;
  traceId: string;
  traceparent: string;
  seatId: string;
  reservationId?: string;
}

const newBuyer = (seatId: string): Buyer => {
  const traceId = randomBytes(16).toString('hex');
  return { userId: randomUUID(), traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, seatId };
};

async function created(base: string, path: string, body: unknown) {
  const response = await request(base, 'POST', path, { body });
  if (response.status !== 201) throw new Error(`POST ${path} → ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** A session with `count` seats through the event API (development's open catalog). */
async function sessionWithSeats(eventUrl: string, bookingUrl: string, count: number) {
  const organizer = await created(eventUrl, '/api/v1/organizers', { name: `Trace Org ${randomUUID().slice(0, 6)}` });
  const location = await created(eventUrl, '/api/v1/locations', { name: 'Trace Venue', organizer_id: organizer.id });
  const hall = await created(eventUrl, `/api/v1/locations/${location.id}/halls`, { name: 'Trace Hall' });
  const seats = Array.from({ length: count }, (_, n) => ({ row_number: 1, seat_number: n + 1 }));
  await created(eventUrl, `/api/v1/halls/${hall.id}/seats/bulk`, { seats });
  const show = await created(eventUrl, '/api/v1/events', { title: 'Trace Show', event_type: 'concert', organizer_id: organizer.id });
  const start = Date.now() + 7 * 86_400_000;
  const session = await created(eventUrl, '/api/v1/sessions', {
    event_id: show.id,
    hall_id: hall.id,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + 7_200_000).toISOString(),
    base_price: 50,
  });
  const tier = await created(bookingUrl, '/api/v1/price-tiers', { name: 'Standard', multiplier: 1, session_id: session.id });
  const map = await request(eventUrl, 'GET', `/api/v1/sessions/${session.id}/seat-map`);
  const seatIds: string[] = map.body.seats.map((seat: { session_seat_id: string }) => seat.session_seat_id);
  return { sessionId: session.id as string, priceTierId: tier.id as string, seatIds };
}

const isOurConsume = (span: ExportedSpan) => span.scope === '@ticketing/platform' && span.kind === SpanKind.CONSUMER;
const reservationOf = (span: ExportedSpan) => span.attributes['ticketing.reservation_id'];

describe('traces stay per message under concurrency (50 concurrent confirms and an expiry batch)', () => {
  let system: TracedSystem;
  let spans: ExportedSpan[] = [];
  const confirmers: Buyer[] = [];
  const expirers: Buyer[] = [];

  beforeAll(async () => {
    system = await startTracedSystem(LABEL, 'warn');
    const { sessionId, priceTierId, seatIds } = await sessionWithSeats(system.eventUrl, system.bookingUrl, CONFIRMS + EXPIRIES);
    for (const seatId of seatIds.slice(0, CONFIRMS)) confirmers.push(newBuyer(seatId));
    for (const seatId of seatIds.slice(CONFIRMS)) expirers.push(newBuyer(seatId));

    await Promise.all(
      [...confirmers, ...expirers].map(async (buyer) => {
        const reserved = await request(system.bookingUrl, 'POST', '/api/v1/reservations', {
          headers: { 'X-User-ID': buyer.userId, traceparent: buyer.traceparent },
          body: { session_id: sessionId, seats: [{ session_seat_id: buyer.seatId, price_tier_id: priceTierId }] },
        });
        if (reserved.status !== 201) throw new Error(`reserve → ${reserved.status} ${JSON.stringify(reserved.body)}`);
        buyer.reservationId = reserved.body.id;
      }),
    );
    // Time passes for the expiring holds; the booking API's sweep (every second) expires them in one batch.
    const db = new Client({ connectionString: `${POSTGRES_URL}/${testDatabaseName(`booking_${LABEL}`)}` });
    await db.connect();
    try {
      await db.query("UPDATE reservations SET expiry_time = now() - interval '1 second' WHERE id = ANY($1::uuid[])", [
        expirers.map((buyer) => buyer.reservationId),
      ]);
    } finally {
      await db.end();
    }
    const confirmed = await Promise.all(
      confirmers.map((buyer) =>
        request(system.bookingUrl, 'POST', `/api/v1/reservations/${buyer.reservationId}/confirm`, {
          headers: { 'X-User-ID': buyer.userId, traceparent: buyer.traceparent },
          body: { payment_id: randomUUID() },
        }),
      ),
    );
    expect(confirmed.map((response) => response.status)).toEqual(confirmers.map(() => 200));

    const everyone = new Set([...confirmers, ...expirers].map((buyer) => buyer.reservationId));
    spans =
      (await eventually(
        async () => {
          const all = await system.spans();
          const consumed = new Set(all.filter(isOurConsume).map(reservationOf));
          return [...everyone].every((id) => consumed.has(id)) ? all : undefined;
        },
        60_000,
        250,
      )) ?? [];
    expect(spans.length).toBeGreaterThan(0);
  }, 180_000);

  afterAll(() => system?.stop(), 60_000);

  const inTrace = (traceId: string) => spans.filter((span) => span.traceId === traceId);
  const messagingSpans = (trace: ExportedSpan[]) =>
    trace.filter((span) => span.name === 'outbox.publish' || isOurConsume(span)).map((span) => `${span.name} ${reservationOf(span) ?? '(batch)'}`);

  test('when 50 buyers confirm at once, then each buyer’s trace holds exactly its own publish and consume spans', () => {
    const wrong: Array<{ reservation?: string; got: string[] }> = [];
    for (const buyer of confirmers) {
      const trace = inTrace(buyer.traceId);
      const expected = [`outbox.publish ${buyer.reservationId}`, `process reservation.confirmed ${buyer.reservationId}`];
      const got = messagingSpans(trace).sort();
      if (JSON.stringify(got) !== JSON.stringify(expected.sort())) wrong.push({ reservation: buyer.reservationId, got });
      const foreign = trace.filter((span) => reservationOf(span) !== undefined && reservationOf(span) !== buyer.reservationId);
      if (foreign.length) wrong.push({ reservation: buyer.reservationId, got: foreign.map((span) => `foreign ${span.name} ${reservationOf(span)}`) });
    }
    expect(wrong).toEqual([]);
  });

  test('when a confirm is consumed, then its process span hangs from that confirm’s own outbox.publish span', () => {
    for (const buyer of confirmers) {
      const trace = inTrace(buyer.traceId);
      const publish = trace.find((span) => span.name === 'outbox.publish')!;
      const consume = trace.find(isOurConsume)!;
      expect({ reservation: buyer.reservationId, parent: consume.parentSpanId }).toEqual({ reservation: buyer.reservationId, parent: publish.spanId });
      expect(publish.kind).toBe(SpanKind.PRODUCER);
    }
  });

  test('when the sweep expires a batch of holds, then each expiry is a trace of its own with exactly its publish and consume', () => {
    const wrong: Array<{ reservation?: string; got: string[] }> = [];
    for (const buyer of expirers) {
      const publishes = spans.filter((span) => span.name === 'outbox.publish' && reservationOf(span) === buyer.reservationId);
      expect({ reservation: buyer.reservationId, publishes: publishes.length }).toEqual({ reservation: buyer.reservationId, publishes: 1 });
      const [publish] = publishes;
      expect(publish.attributes['messaging.rabbitmq.destination.routing_key']).toBe('reservation.expired');
      const got = messagingSpans(inTrace(publish.traceId)).sort();
      const expected = [`outbox.publish ${buyer.reservationId}`, `process reservation.expired ${buyer.reservationId}`].sort();
      if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push({ reservation: buyer.reservationId, got });
      // The hold itself was placed in the buyer's trace, which the expiry does not join.
      expect(messagingSpans(inTrace(buyer.traceId))).toEqual([]);
    }
    expect(wrong).toEqual([]);
  });

  test('when the consumer takes several messages in one batch, then a batch span links each producer and each message span links the batch', () => {
    const batches = spans.filter((span) => isOurConsume(span) && span.name === 'process batch');
    const messageSpans = spans.filter((span) => isOurConsume(span) && span.name !== 'process batch');
    const sizes = batches.map((batch) => Number(batch.attributes['messaging.batch.message_count']));
    process.stdout.write(`consumer batches: ${batches.length} (sizes ${sizes.join(', ')}); single-message process spans: ${messageSpans.length - sizes.reduce((a, b) => a + b, 0)}\n`);
    // 20 expiry rows are published in one relay pass: the consumer gets them in one burst.
    expect(batches.length).toBeGreaterThan(0);
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    for (const batch of batches) {
      expect(batch.parentSpanId).toBeUndefined();
      const members = messageSpans.filter((span) => span.links.some((link) => link.spanId === batch.spanId));
      expect(members.length).toBe(Number(batch.attributes['messaging.batch.message_count']));
      // The batch links exactly the producer spans its messages continue.
      const producers = members.map((member) => byId.get(member.parentSpanId ?? ''));
      expect(producers.every((producer) => producer?.name === 'outbox.publish')).toBe(true);
      expect(batch.links.map((link) => link.spanId).sort()).toEqual(producers.map((producer) => producer!.spanId).sort());
      // The handler's work (the seat update) is the batch's, not any one message's.
      expect(spans.some((span) => span.name === 'seat_inventory.apply_event' && span.parentSpanId === batch.spanId)).toBe(true);
    }
  });
});
