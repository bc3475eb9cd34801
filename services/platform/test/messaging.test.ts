import amqplib from 'amqplib';
import { randomUUID } from 'node:crypto';
import { createLogger } from '../src/logger';
import { BrokerConnection, BrokerUnavailableError, publishEvent } from '../src/messaging/broker';
import { consumeEvents, type ConsumeOutcome } from '../src/messaging/consumer';
import { createTicketingEvent, type TicketingEvent } from '../src/messaging/events';
import { EVENT_SERVICE_DEAD_LETTER_QUEUE, TICKETING_PUBLICATION, brokerConfig } from '../src/messaging/topology';
import { RABBITMQ_URL, uniqueBrokerNamespace } from '../../../test/support/infra';
import { eventually } from '../../../test/support/http';

const logger = createLogger('messaging-test', 'silent');

const eventData = () => ({
  reservation_id: randomUUID(),
  session_id: randomUUID(),
  user_id: randomUUID(),
  session_seat_ids: [randomUUID()],
});

describe('messaging over the real RabbitMQ', () => {
  const namespace = uniqueBrokerNamespace('platform');
  const connection = new BrokerConnection(brokerConfig({ url: RABBITMQ_URL, namespace, maxAttempts: 2 }), logger);
  const handled: TicketingEvent[] = [];
  const outcomes: Array<[string, ConsumeOutcome, string | undefined]> = [];
  const batchSizes: number[] = [];
  const failingReservations = new Set<string>();
  const waiters: Array<{ id: string; outcome: ConsumeOutcome; resolve: () => void }> = [];
  /** Resolves once the consumer has reported `outcome` for message `id` through its onOutcome hook (or already had). */
  const reported = (id: string, outcome: ConsumeOutcome) =>
    new Promise<void>((resolve) => {
      if (outcomes.some(([, seen, seenId]) => seenId === id && seen === outcome)) resolve();
      else waiters.push({ id, outcome, resolve });
    });
  let amqp: amqplib.ChannelModel;
  let channel: amqplib.Channel;

  const deadLetters = async (): Promise<string[]> => {
    const bodies: string[] = [];
    for (;;) {
      const message = await channel.get(`${namespace}:${EVENT_SERVICE_DEAD_LETTER_QUEUE}`, { noAck: true });
      if (!message) return bodies;
      bodies.push(message.content.toString());
    }
  };

  beforeAll(async () => {
    const broker = await connection.connect();
    await consumeEvents(
      broker,
      async (events) => {
        batchSizes.push(events.length);
        // All or nothing, like a database transaction.
        if (events.some((event) => failingReservations.has(event.data.reservation_id))) throw new Error('cannot apply');
        handled.push(...events);
      },
      {
        logger,
        maxAttempts: 2,
        retryDelayMs: 50,
        maxBatchSize: 50,
        onOutcome: (key, outcome, event) => {
          outcomes.push([key, outcome, event?.id]);
          for (const waiter of waiters) if (waiter.id === event?.id && waiter.outcome === outcome) waiter.resolve();
        },
      },
    );
    amqp = await amqplib.connect(RABBITMQ_URL);
    channel = await amqp.createChannel();
  });

  afterAll(async () => {
    await channel.close();
    await amqp.close();
    await connection.current?.nuke();
    await connection.stop();
  });

  it('delivers a published event, confirmed by the broker, to the consumer', async () => {
    const event = createTicketingEvent('reservation.confirmed', eventData());
    await publishEvent(connection, event);
    await reported(event.id, 'applied');
    expect(handled.find((e) => e.id === event.id)).toEqual(event);
  });

  it('dead-letters content that is not JSON without retrying it', async () => {
    const publication = await connection.current!.publish(TICKETING_PUBLICATION, Buffer.from('{not json'), {
      routingKey: 'reservation.confirmed',
      options: { contentType: 'application/json', messageId: randomUUID() },
    });
    await new Promise((resolve) => publication.on('success', resolve));
    const dead = await eventually(async () => (await deadLetters()).find((body) => body === '{not json'));
    expect(dead).toBe('{not json');
  });

  it('dead-letters JSON that does not match the event schema', async () => {
    const marker = randomUUID();
    const publication = await connection.current!.publish(
      TICKETING_PUBLICATION,
      { id: marker, type: 'reservation.confirmed', data: {} },
      { routingKey: 'reservation.confirmed' },
    );
    await new Promise((resolve) => publication.on('success', resolve));
    const dead = await eventually(async () => (await deadLetters()).find((body) => body.includes(marker)));
    expect(dead).toContain(marker);
    expect(handled.some((e) => e.id === marker)).toBe(false);
  });

  it('retries a failing message a bounded number of times, then dead-letters it', async () => {
    const event = createTicketingEvent('ticket.refunded', eventData());
    failingReservations.add(event.data.reservation_id);
    await publishEvent(connection, event);
    const dead = await eventually(async () => (await deadLetters()).find((body) => body.includes(event.id)), 8000);
    expect(dead).toContain(event.id);
    const attempts = outcomes.filter(([key]) => key === 'ticket.refunded').map(([, outcome]) => outcome);
    expect(attempts).toEqual(['retried', 'dead_lettered']);
  });

  it('hands a burst to the handler in batches of at most maxBatchSize and reports each message applied once', async () => {
    const burst = Array.from({ length: 120 }, () => createTicketingEvent('reservation.expired', eventData()));
    const sizesBefore = batchSizes.length;
    await Promise.all(burst.map((event) => publishEvent(connection, event)));
    await Promise.all(burst.map((event) => reported(event.id, 'applied')));
    const sizes = batchSizes.slice(sizesBefore);
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(50);
    const ids = new Set(burst.map((event) => event.id));
    expect(handled.filter((event) => ids.has(event.id))).toHaveLength(120);
    const applied = outcomes.filter(([, outcome, id]) => outcome === 'applied' && id !== undefined && ids.has(id));
    expect(applied).toHaveLength(120);
  });

  it('a failing message does not hold back the others of its batch: they are applied, it alone is retried', async () => {
    const good = Array.from({ length: 30 }, () => createTicketingEvent('reservation.cancelled', eventData()));
    const bad = createTicketingEvent('reservation.cancelled', eventData());
    failingReservations.add(bad.data.reservation_id);
    await Promise.all([...good.slice(0, 15), bad, ...good.slice(15)].map((event) => publishEvent(connection, event)));
    await eventually(async () => (await deadLetters()).find((body) => body.includes(bad.id)), 8000);
    for (const event of good) expect(handled.filter((e) => e.id === event.id)).toHaveLength(1);
    expect(handled.some((e) => e.id === bad.id)).toBe(false);
    expect(outcomes.filter(([, , id]) => id === bad.id).map(([, outcome]) => outcome)).toEqual(['retried']);
  });

  it('refuses to publish at once, instead of hanging, when RabbitMQ is unreachable', async () => {
    const refTimers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const timersBefore = refTimers();
    const unreachable = new BrokerConnection(brokerConfig({ url: 'amqp://guest:guest@127.0.0.1:1' }), logger, 50);
    void unreachable.connect().catch(() => undefined);
    await expect(unreachable.check()).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(publishEvent(unreachable, createTicketingEvent('reservation.expired', eventData()))).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    await unreachable.stop();
    // The failed attempt's half-made Rascal broker is shut down too: its keep-alive interval (about 24
    // days) would otherwise hold the process open.
    expect(refTimers()).toBeLessThanOrEqual(timersBefore);
  });
});
