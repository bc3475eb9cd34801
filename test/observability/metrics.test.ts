/**
 * The metrics an operator watches during an on-sale, scraped from the in-process services' /metrics
 * before and after real activity — bookings, a lock contention, a conflict, a confirm, an expiry, a
 * cancel, a refund and a dead letter — and the dashboard's and alerts' PromQL held to what is scraped.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as amqplib from 'amqplib';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { BrokerAsPromised } from 'rascal';
import { brokerConfig } from '@ticketing/platform';
import { DEMO_SESSION_ID, demoSessionSeatId } from '../../services/event-service/src/data-access/demo-ids';
import { seatLockResource } from '../../services/booking-service/src/data-access/seat-locks';
import { CHART, render } from '../charts/helm-tools';
import * as infra from '../support/infra';
import { eventually, request } from '../support/http';
import { startSystem, systemDatabaseName, type RunningSystem } from '../support/system';
import { exists, parseExposition, readPromQL, total, type Sample } from './support/prometheus';

// startSystem picks the RabbitMQ namespace; the test needs it to send a poison message and to clean up.
jest.mock('../support/infra', () => {
  const actual = jest.requireActual('../support/infra');
  return { ...actual, uniqueBrokerNamespace: jest.fn((label: string) => actual.uniqueBrokerNamespace(label)) };
});

const LABEL = 'obs_metrics';
const PAYMENT_ID = '99999999-0000-0000-0000-00000000abcd';
const [SOLD, CONTENDED, EXPIRING, CANCELLED] = [1, 2, 3, 4].map((seat) => demoSessionSeatId(2, seat));

type Scrape = { booking: Sample[]; event: Sample[]; consumer: Sample[] };

describe('metrics move with bookings, contention, conflicts, confirms, expiries, cancels, refunds and dead letters', () => {
  let system: RunningSystem;
  let namespace: string;
  let before: Scrape;
  let after: Scrape;

  const scrape = async (): Promise<Scrape> => {
    const read = async (url: string) => {
      const response = await request<string>(url, 'GET', '/metrics');
      expect(response.status).toBe(200);
      return parseExposition(response.body);
    };
    return { booking: await read(system.bookingUrl), event: await read(system.eventUrl), consumer: await read(system.consumerUrl) };
  };
  const delta = (service: keyof Scrape, name: string, labels: Record<string, string> = {}) =>
    total(after[service], name, labels) - total(before[service], name, labels);

  const buyer = () => ({ 'X-User-ID': randomUUID() });
  const reserve = (user: Record<string, string>, seat: string) =>
    request(system.bookingUrl, 'POST', '/api/v1/reservations', {
      headers: user,
      body: { session_id: DEMO_SESSION_ID, seats: [{ session_seat_id: seat }] },
    });
  const seatStatus = async (seat: string) =>
    (await request(system.eventUrl, 'GET', `/api/v1/sessions/${DEMO_SESSION_ID}/seat-map`)).body.seats.find(
      (s: { session_seat_id: string }) => s.session_seat_id === seat,
    )?.status;

  beforeAll(async () => {
    system = await startSystem(LABEL);
    namespace = (infra.uniqueBrokerNamespace as jest.Mock).mock.results[0].value;
    // The consumer subscribes in the background.
    await eventually(async () => (await request(system.consumerUrl, 'GET', '/ready')).status === 200, 10_000);
    before = await scrape();

    // A booking, and a second buyer who asks for the same seat after it is held: a conflict.
    const alice = buyer();
    const held = await reserve(alice, SOLD);
    expect(held.status).toBe(201);
    expect((await reserve(buyer(), SOLD)).body.error?.code).toBe('SEATS_UNAVAILABLE');

    // Lock contention: another request holds the seat's Redis lock right now.
    const redis = new Redis(infra.REDIS_URL);
    try {
      await redis.set(seatLockResource(CONTENDED), 'another-request', 'PX', 10_000, 'NX');
      expect((await reserve(buyer(), CONTENDED)).body.error?.code).toBe('SEAT_LOCKED');
    } finally {
      await redis.del(seatLockResource(CONTENDED));
      redis.disconnect();
    }

    // The confirm, seat sold by the consumer, then a refund of its ticket (seat back on sale).
    const confirmed = await request(system.bookingUrl, 'POST', `/api/v1/reservations/${held.body.id}/confirm`, {
      headers: alice,
      body: { payment_id: PAYMENT_ID },
    });
    expect(confirmed.status).toBe(200);
    expect(await eventually(async () => (await seatStatus(SOLD)) === 'sold', 10_000)).toBe(true);
    const refunded = await request(system.bookingUrl, 'POST', `/api/v1/tickets/${confirmed.body.tickets[0].id}/refund`, { headers: alice });
    expect(refunded.status).toBe(200);

    // A hold that expires: its expiry time is moved into the past; the API's sweep (every second) releases it.
    const late = await reserve(buyer(), EXPIRING);
    expect(late.status).toBe(201);
    const db = new Client({ connectionString: `${infra.POSTGRES_URL}/${systemDatabaseName('booking', LABEL)}` });
    await db.connect();
    try {
      await db.query("UPDATE reservations SET expiry_time = now() - interval '1 second' WHERE id = $1", [late.body.id]);
    } finally {
      await db.end();
    }

    // A cancel.
    const bob = buyer();
    const cancelled = await reserve(bob, CANCELLED);
    expect((await request(system.bookingUrl, 'DELETE', `/api/v1/reservations/${cancelled.body.id}`, { headers: bob })).status).toBe(200);

    // A message the consumer cannot read goes to the dead-letter queue at once.
    const amqp = await amqplib.connect(infra.RABBITMQ_URL);
    try {
      const channel = await amqp.createConfirmChannel();
      channel.publish(`${namespace}:ticketing_events`, 'reservation.confirmed', Buffer.from('{not json'), {
        contentType: 'application/json',
        messageId: randomUUID(),
        persistent: true,
      });
      await channel.waitForConfirms();
    } finally {
      await amqp.close();
    }

    // Everything reached the seat inventory: expired, cancelled and refunded seats are available again.
    for (const seat of [SOLD, EXPIRING, CANCELLED]) {
      expect(await eventually(async () => (await seatStatus(seat)) === 'available', 15_000)).toBe(true);
    }
    const settledScrape = await eventually(async () => {
      const scraped = await scrape();
      const settled = total(scraped.consumer, 'messages_consumed_total', { outcome: 'applied' }) - total(before.consumer, 'messages_consumed_total', { outcome: 'applied' });
      return settled >= 4 && total(scraped.consumer, 'messages_dead_lettered_total') >= 1 ? scraped : undefined;
    }, 15_000);
    if (!settledScrape) throw new Error('the consumer did not apply the four events and the dead letter in time');
    after = settledScrape;
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    if (namespace) await (await BrokerAsPromised.create(brokerConfig({ url: infra.RABBITMQ_URL, namespace }))).nuke();
  }, 60_000);

  test('booking latency by outcome: created, conflict (seat held), conflict (seat locked)', () => {
    expect(delta('booking', 'booking_reservation_duration_seconds_count', { outcome: 'created' })).toBe(3);
    expect(delta('booking', 'booking_reservation_duration_seconds_count', { outcome: 'conflict' })).toBe(2);
    expect(delta('booking', 'booking_reservation_duration_seconds_count', { outcome: 'error' })).toBe(0);
    expect(delta('booking', 'booking_reservation_duration_seconds_sum')).toBeGreaterThan(0);
    // Buckets resolve 1 ms to 5 s.
    const les = after.booking.filter((s) => s.name === 'booking_reservation_duration_seconds_bucket' && s.labels.outcome === 'created').map((s) => s.labels.le);
    expect(les).toEqual(expect.arrayContaining(['0.001', '0.005', '0.05', '0.5', '5', '+Inf']));
    expect(delta('booking', 'booking_confirm_duration_seconds_count', { outcome: 'confirmed' })).toBe(1);
  });

  test('lock contention: acquisitions by result, acquire latency, time held and seats contended', () => {
    expect(delta('booking', 'booking_lock_acquisitions_total', { result: 'acquired' })).toBe(4);
    expect(delta('booking', 'booking_lock_acquisitions_total', { result: 'contended' })).toBe(1);
    expect(delta('booking', 'booking_lock_acquisitions_total', { result: 'error' })).toBe(0);
    expect(delta('booking', 'booking_lock_acquire_duration_seconds_count', { result: 'acquired' })).toBe(4);
    expect(delta('booking', 'booking_lock_acquire_duration_seconds_count', { result: 'contended' })).toBe(1);
    expect(delta('booking', 'booking_lock_held_seconds_count')).toBe(4);
    expect(delta('booking', 'booking_lock_contended_seats_total')).toBe(1);
  });

  test('flow: settled reservations, tickets, expiry releases, outbox, published and consumed messages, lag', () => {
    expect(delta('booking', 'booking_reservations_settled_total', { state: 'confirmed' })).toBe(1);
    expect(delta('booking', 'booking_reservations_settled_total', { state: 'expired' })).toBe(1);
    expect(delta('booking', 'booking_reservations_settled_total', { state: 'cancelled' })).toBe(1);
    expect(delta('booking', 'booking_tickets_issued_total')).toBe(1);
    expect(delta('booking', 'booking_tickets_refunded_total')).toBe(1);
    expect(delta('booking', 'booking_expiry_released_holds_total', { reason: 'expired' })).toBe(1);
    for (const routingKey of ['reservation.confirmed', 'reservation.expired', 'reservation.cancelled', 'ticket.refunded']) {
      expect({ routingKey, published: delta('booking', 'messages_published_total', { routing_key: routingKey, outcome: 'published' }) }).toEqual({ routingKey, published: 1 });
      expect({ routingKey, applied: delta('consumer', 'messages_consumed_total', { routing_key: routingKey, outcome: 'applied' }) }).toEqual({ routingKey, applied: 1 });
      expect(delta('consumer', 'consumer_lag_seconds_count', { routing_key: routingKey })).toBe(1);
    }
    // The four events went through the consumer's transactions, in batches of one or more.
    expect(delta('consumer', 'consumer_batch_messages_sum')).toBe(4);
    expect(delta('consumer', 'consumer_batch_messages_count')).toBeGreaterThanOrEqual(1);
    expect(total(after.booking, 'outbox_backlog_rows')).toBe(0);
    expect(exists(after.booking, 'outbox_oldest_age_seconds')).toBe(true);
    expect(total(after.consumer, 'consumer_subscribed')).toBe(1);
    expect(total(after.consumer, 'event_queue_messages', { queue: 'event_service_queue' })).toBe(0);
  });

  test('dead letters: counted by routing key and waiting in event_service_queue.dead', () => {
    expect(delta('consumer', 'messages_dead_lettered_total', { routing_key: 'reservation.confirmed' })).toBe(1);
    expect(delta('consumer', 'messages_consumed_total', { routing_key: 'reservation.confirmed', outcome: 'dead_lettered' })).toBe(1);
    expect(total(after.consumer, 'event_queue_messages', { queue: 'event_service_queue.dead' })).toBe(1);
  });

  test('HTTP duration by route template on both APIs, Node defaults, service label everywhere', () => {
    expect(delta('booking', 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/reservations', status: '201' })).toBe(3);
    expect(delta('booking', 'http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/reservations', status: '409' })).toBe(2);
    expect(delta('event', 'http_request_duration_seconds_count', { method: 'POST', route: '/api/internal/sessions/:id/seats/reserve', status: '200' })).toBe(3);
    for (const [service, samples] of Object.entries(after)) {
      expect({ service, lag: exists(samples, 'nodejs_eventloop_lag_seconds') }).toEqual({ service, lag: true });
      const expected = { booking: 'booking-service', event: 'event-service', consumer: 'event-consumer' }[service];
      expect(new Set(samples.map((s) => s.labels.service))).toEqual(new Set([expected]));
    }
  });

  test('label values stay bounded: no ids in any label', () => {
    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
    const withIds = Object.values(after)
      .flat()
      .filter((sample) => Object.values(sample.labels).some((value) => uuid.test(value)));
    expect(withIds).toEqual([]);
  });

  test('every metric in the dashboard and in the alerts is exported by the services', () => {
    const exported = new Set(Object.values(after).flat().map((sample) => sample.name));

    const dashboard = JSON.parse(readFileSync(path.join(CHART, 'dashboards', 'ticketing.json'), 'utf8'));
    const panels = dashboard.panels.flatMap((panel: { panels?: unknown[] }) => [panel, ...(panel.panels ?? [])]);
    const dashboardExprs: string[] = panels.flatMap((panel: { targets?: Array<{ expr?: string }> }) =>
      (panel.targets ?? []).map((target) => target.expr).filter((expr): expr is string => Boolean(expr)),
    );
    const variableQueries: string[] = dashboard.templating.list
      .filter((variable: { type: string }) => variable.type === 'query')
      .map((variable: { query: string | { query: string } }) => (typeof variable.query === 'string' ? variable.query : variable.query.query));

    const rules = render({ set: ['prometheusRule.enabled=true'] })
      .filter((o) => o.kind === 'PrometheusRule')
      .flatMap((o) => o.spec.groups.flatMap((group: { rules: Array<{ alert: string; expr: string }> }) => group.rules));
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(dashboardExprs.length).toBeGreaterThanOrEqual(15);

    const used = new Map<string, string>();
    const syntaxErrors: string[] = [];
    const read = (expr: string, where: string) => {
      const { metrics, errors } = readPromQL(expr);
      for (const error of errors) syntaxErrors.push(`${where}: ${error}`);
      for (const name of metrics) used.set(name, where);
    };
    for (const expr of dashboardExprs) read(expr, `dashboard: ${expr}`);
    for (const query of variableQueries) {
      const selector = /^label_values\((.+),\s*[a-zA-Z_]+\s*\)$/.exec(query)?.[1];
      expect({ query, selector }).toEqual({ query, selector: expect.any(String) });
      read(selector!, `dashboard variable: ${query}`);
    }
    for (const rule of rules) read(rule.expr, `alert ${rule.alert}`);

    expect(syntaxErrors).toEqual([]);
    expect(used.size).toBeGreaterThan(15);
    const missing = [...used].filter(([name]) => !exported.has(name)).map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
  });
});

describe('readPromQL (the PromQL reader the test above relies on)', () => {
  test.each([
    ['histogram_quantile(0.99, sum by (le, service) (rate(booking_reservation_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))', ['booking_reservation_duration_seconds_bucket']],
    ['sum(rate(a_total{x="y"}[5m])) / sum(rate(b_total[5m])) > 0.05', ['a_total', 'b_total']],
    ['max(consumer_subscribed{namespace="shop"}) < 1 or absent(consumer_subscribed{namespace="shop"})', ['consumer_subscribed']],
    ['sum without (pod) (increase(x_total[15m])) > 1e3 and on() vector(1)', ['x_total']],
    ['{__name__="y_seconds_count", job="a"} offset 5m', ['y_seconds_count']],
  ])('%s', (expr, names) => {
    expect(readPromQL(expr)).toEqual({ metrics: expect.arrayContaining(names), errors: [] });
    expect(readPromQL(expr).metrics).toHaveLength(names.length);
  });

  test('reports syntax errors', () => {
    expect(readPromQL('sum(rate(x_total[5m])').errors).toHaveLength(1);
    expect(readPromQL('rate(x_total{a="b"}[5m]) >').errors.length).toBeGreaterThan(0);
  });
});
