import { randomUUID } from 'node:crypto';
import net from 'node:net';
import amqplib from 'amqplib';
import {
  BrokerConnection,
  TICKETING_PUBLICATION,
  brokerConfig,
  createLogger,
  createTicketingEvent,
  publishEvent,
  type Knex,
  type RoutingKey,
  type TicketingEvent,
} from '@ticketing/platform';
import { startEventConsumer, type EventConsumer } from '../src/entry-points/consumer';
import { seatInventoryRepository } from '../src/data-access/seat-inventory-repository';
import { placeHold } from '../src/domain/seat-inventory';
import { EVENT_TEST_DATABASE_URL, POSTGRES_URL, RABBITMQ_URL, silentLogLevel, uniqueBrokerNamespace } from '../../../test/support/infra';
import { eventually, request } from '../../../test/support/http';
import { createSessionFixture, inMinutes, openTestDatabase, seatRows, type SessionFixture } from './support/fixtures';

const logger = createLogger('consumer-test', silentLogLevel);
const USER_ID = randomUUID();

async function startPublisher(namespace: string) {
  const connection = new BrokerConnection(brokerConfig({ url: RABBITMQ_URL, namespace }), logger);
  await connection.connect();
  return connection;
}

/** Reads (and removes) every message currently in a queue. */
async function drainQueue(channel: amqplib.Channel, queue: string): Promise<amqplib.GetMessage[]> {
  const messages: amqplib.GetMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return messages;
    messages.push(message);
  }
}

describe('event consumer: booking events change the seat inventory', () => {
  const namespace = uniqueBrokerNamespace('event-consumer');
  let db: Knex;
  let consumer: EventConsumer;
  let publisher: BrokerConnection;
  let amqp: amqplib.ChannelModel;
  let channel: amqplib.Channel;
  let fixture: SessionFixture;
  const inventory = () => seatInventoryRepository(db);

  const event = (type: RoutingKey, reservationId: string, seatIds: string[], extra: Record<string, unknown> = {}) =>
    createTicketingEvent(type, {
      reservation_id: reservationId,
      session_id: fixture.sessionId,
      user_id: USER_ID,
      session_seat_ids: seatIds,
      ...extra,
    });
  const publish = (message: TicketingEvent) => publishEvent(publisher, message);
  const hold = (reservationId: string, seatIds: string[]) =>
    placeHold(inventory(), { sessionId: fixture.sessionId, reservationId, seatIds, reservedUntil: inMinutes(10) });
  const processed = async (messageId: string) =>
    (await db('processed_messages').where({ message_id: messageId }).first()) !== undefined;
  const metrics = async () => (await request<string>(consumer.url, 'GET', '/metrics')).body;

  beforeAll(async () => {
    db = await openTestDatabase();
    consumer = await startEventConsumer({
      DATABASE_URL: EVENT_TEST_DATABASE_URL,
      RABBITMQ_URL,
      METRICS_PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: silentLogLevel as 'silent',
      CONSUMER_MAX_ATTEMPTS: 2,
      CONSUMER_RETRY_DELAY_MS: 50,
      brokerNamespace: namespace,
    });
    publisher = await startPublisher(namespace);
    amqp = await amqplib.connect(RABBITMQ_URL);
    channel = await amqp.createChannel();
    await eventually(async () => (await request(consumer.url, 'GET', '/ready')).status === 200, 10_000);
  });

  afterAll(async () => {
    await consumer?.stop();
    await channel?.close();
    await amqp?.close();
    await publisher?.current?.nuke();
    await db?.destroy();
  });

  beforeEach(async () => {
    fixture = await createSessionFixture(db, { rows: 1, seatsPerRow: 6 });
  });

  test('reports ready (database and broker) and exposes its metrics', async () => {
    const ready = await request(consumer.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: { status: 'up' }, broker: { status: 'up' } });
    expect((await request(consumer.url, 'GET', '/health')).status).toBe(200);
    const text = await metrics();
    expect(text).toContain('# TYPE messages_consumed_total counter');
    expect(text).toContain('# TYPE messages_dead_lettered_total counter');
    expect(text).toContain('# TYPE consumer_lag_seconds histogram');
  });

  test('reservation.confirmed sells the seats the reservation holds', async () => {
    const reservationId = randomUUID();
    const seats = fixture.seatIds.slice(0, 2);
    await hold(reservationId, seats);
    const confirmed = event('reservation.confirmed', reservationId, seats);
    await publish(confirmed);

    await eventually(() => processed(confirmed.id));
    const rows = await seatRows(db, seats);
    expect(rows.map((row) => [row.status, row.reservation_id])).toEqual([
      ['sold', reservationId],
      ['sold', reservationId],
    ]);
    expect(rows[0].reserved_until).not.toBeNull();
    expect(await metrics()).toMatch(/consumer_lag_seconds_count\{[^}]*routing_key="reservation.confirmed"[^}]*\} [1-9]/);
    expect(await metrics()).toMatch(
      /messages_consumed_total\{routing_key="reservation.confirmed",outcome="applied",service="event-consumer"\} [1-9]/,
    );
  });

  test.each(['reservation.expired', 'reservation.cancelled'] as const)(
    '%s releases only the seats still held by that reservation',
    async (type) => {
      const mine = randomUUID();
      const other = randomUUID();
      const [a, b, c] = fixture.seatIds;
      await hold(mine, [a]);
      await hold(other, [b]);
      const ended = event(type, mine, [a, b, c]);
      await publish(ended);

      await eventually(() => processed(ended.id));
      const rows = await seatRows(db, [a, b, c]);
      expect(rows.map((row) => [row.status, row.reservation_id, row.reserved_until])).toEqual([
        ['available', null, null],
        ['reserved', other, expect.any(Date)],
        ['available', null, null],
      ]);
    },
  );

  test('a duplicated message changes nothing the second time', async () => {
    const reservationId = randomUUID();
    const [seat] = fixture.seatIds;
    await hold(reservationId, [seat]);
    const expired = event('reservation.expired', reservationId, [seat]);
    await publish(expired);
    await eventually(() => processed(expired.id));
    expect((await seatRows(db, [seat]))[0].status).toBe('available');

    // The same reservation holds the seat again; a redelivery of the old message must not release it.
    await hold(reservationId, [seat]);
    await publish(expired);
    await eventually(async () =>
      /messages_consumed_total\{routing_key="reservation.expired",outcome="duplicate",service="event-consumer"\} [1-9]/.test(
        await metrics(),
      ),
    );
    expect((await seatRows(db, [seat]))[0]).toMatchObject({ status: 'reserved', reservation_id: reservationId });
    expect(await db('processed_messages').where({ message_id: expired.id })).toHaveLength(1);
  });

  test('a refund that arrives before its confirm leaves the seat available', async () => {
    const reservationId = randomUUID();
    const [refundedSeat, keptSeat] = fixture.seatIds;
    await hold(reservationId, [refundedSeat, keptSeat]);
    const refunded = event('ticket.refunded', reservationId, [refundedSeat], { ticket_id: randomUUID() });
    const confirmed = event('reservation.confirmed', reservationId, [refundedSeat, keptSeat]);
    await publish(refunded);
    await eventually(() => processed(refunded.id));
    await publish(confirmed);
    await eventually(() => processed(confirmed.id));

    const rows = await seatRows(db, [refundedSeat, keptSeat]);
    expect(rows.map((row) => [row.status, row.reservation_id])).toEqual([
      ['available', null],
      ['sold', reservationId],
    ]);
  });

  test('ticket.refunded returns a sold seat to sale', async () => {
    const reservationId = randomUUID();
    const [seat] = fixture.seatIds;
    await hold(reservationId, [seat]);
    const confirmed = event('reservation.confirmed', reservationId, [seat]);
    await publish(confirmed);
    await eventually(() => processed(confirmed.id));
    const refunded = event('ticket.refunded', reservationId, [seat], { ticket_id: randomUUID() });
    await publish(refunded);
    await eventually(() => processed(refunded.id));

    expect((await seatRows(db, [seat]))[0]).toMatchObject({ status: 'available', reservation_id: null, reserved_until: null });
  });

  test('a confirm never sells a seat held by another reservation', async () => {
    const mine = randomUUID();
    const other = randomUUID();
    const [seat] = fixture.seatIds;
    await hold(other, [seat]);
    const confirmed = event('reservation.confirmed', mine, [seat]);
    await publish(confirmed);
    await eventually(() => processed(confirmed.id));

    expect((await seatRows(db, [seat]))[0]).toMatchObject({ status: 'reserved', reservation_id: other });
  });

  test('seats the session does not have are ignored; the rest of the message is applied', async () => {
    const reservationId = randomUUID();
    const [seat] = fixture.seatIds;
    await hold(reservationId, [seat]);
    const confirmed = event('reservation.confirmed', reservationId, [randomUUID(), seat]);
    await publish(confirmed);
    await eventually(() => processed(confirmed.id));
    expect((await seatRows(db, [seat]))[0]).toMatchObject({ status: 'sold', reservation_id: reservationId });

    const elsewhere = createTicketingEvent('reservation.cancelled', {
      reservation_id: randomUUID(),
      session_id: randomUUID(),
      user_id: USER_ID,
      session_seat_ids: [seat],
    });
    await publish(elsewhere);
    await eventually(() => processed(elsewhere.id));
    expect((await seatRows(db, [seat]))[0]).toMatchObject({ status: 'sold', reservation_id: reservationId });
  });

  test('poison messages (not JSON, or JSON that is not an event) go to the dead-letter queue', async () => {
    const deadLetterQueue = `${namespace}:event_service_queue.dead`;
    await drainQueue(channel, deadLetterQueue);
    const broker = publisher.current!;
    const notJson = randomUUID();
    const notAnEvent = randomUUID();
    await broker.publish(TICKETING_PUBLICATION, Buffer.from('{not json'), {
      routingKey: 'reservation.confirmed',
      options: { messageId: notJson, contentType: 'application/json' },
    });
    await broker.publish(TICKETING_PUBLICATION, { id: 'nope', type: 'reservation.confirmed', data: {} }, {
      routingKey: 'reservation.confirmed',
      options: { messageId: notAnEvent },
    });

    const seen: string[] = [];
    await eventually(async () => {
      for (const message of await drainQueue(channel, deadLetterQueue)) seen.push(String(message.properties.messageId));
      return seen.includes(notJson) && seen.includes(notAnEvent);
    }, 10_000);
    expect(seen).toEqual(expect.arrayContaining([notJson, notAnEvent]));
    expect(await metrics()).toMatch(
      /messages_dead_lettered_total\{routing_key="reservation.confirmed",service="event-consumer"\} [2-9]/,
    );
  });
});

describe('event consumer: a message that can never be applied', () => {
  const namespace = uniqueBrokerNamespace('event-consumer-failing');
  let consumer: EventConsumer;
  let publisher: BrokerConnection;
  let amqp: amqplib.ChannelModel;
  let channel: amqplib.Channel;

  beforeAll(async () => {
    consumer = await startEventConsumer({
      // Every handling attempt fails: this database does not exist.
      DATABASE_URL: `${POSTGRES_URL}/event_service_missing_${randomUUID().slice(0, 8)}`,
      RABBITMQ_URL,
      METRICS_PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: silentLogLevel as 'silent',
      CONSUMER_MAX_ATTEMPTS: 2,
      CONSUMER_RETRY_DELAY_MS: 20,
      brokerNamespace: namespace,
    });
    publisher = await startPublisher(namespace);
    amqp = await amqplib.connect(RABBITMQ_URL);
    channel = await amqp.createChannel();
  });

  afterAll(async () => {
    await consumer?.stop();
    await channel?.close();
    await amqp?.close();
    await publisher?.current?.nuke();
  });

  test('is retried a bounded number of times, then dead-lettered', async () => {
    const failing = createTicketingEvent('reservation.cancelled', {
      reservation_id: randomUUID(),
      session_id: randomUUID(),
      user_id: USER_ID,
      session_seat_ids: [randomUUID()],
    });
    await publishEvent(publisher, failing);

    const deadLettered = await eventually(async () => {
      const message = await channel.get(`${namespace}:event_service_queue.dead`, { noAck: true });
      return message || undefined;
    }, 15_000);
    expect(deadLettered).toBeDefined();
    expect(JSON.parse(deadLettered!.content.toString()).id).toBe(failing.id);

    const text = (await request<string>(consumer.url, 'GET', '/metrics')).body;
    // CONSUMER_MAX_ATTEMPTS is 2: one failed attempt is retried, the second failure dead-letters the message.
    expect(text).toMatch(/messages_consumed_total\{routing_key="reservation.cancelled",outcome="retried",service="event-consumer"\} 1\n/);
    expect(text).toMatch(
      /messages_consumed_total\{routing_key="reservation.cancelled",outcome="dead_lettered",service="event-consumer"\} 1\n/,
    );
    expect(text).toMatch(/messages_dead_lettered_total\{routing_key="reservation.cancelled",service="event-consumer"\} 1/);
    expect((await request(consumer.url, 'GET', '/ready')).status).toBe(503);
  });
});

describe('event consumer: RabbitMQ unreachable at start', () => {
  test('starts anyway, reports not ready, and stops without leaving timers behind', async () => {
    const refTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const timersBefore = refTimers();
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const consumer = await startEventConsumer({
      DATABASE_URL: EVENT_TEST_DATABASE_URL,
      RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${closedPort}`,
      METRICS_PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: silentLogLevel as 'silent',
      brokerNamespace: uniqueBrokerNamespace('event-consumer-offline'),
    });
    try {
      const ready = await request(consumer.url, 'GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toMatchObject({ database: { status: 'up' }, broker: { status: 'down' } });
      expect((await request(consumer.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await consumer.stop();
    }
    await expect(request(consumer.url, 'GET', '/health')).rejects.toThrow();
    // Each failed connection attempt must release its half-made Rascal broker (whose interval would
    // otherwise keep the process alive forever).
    // Other suites' timers may end meanwhile, so fewer is fine. One of theirs may also start meanwhile and end
    // soon after; a leaked interval never ends, so wait a little before calling it a leak.
    expect(await eventually(async () => refTimers() <= timersBefore, 3000)).toBe(true);
  });
});
