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
  const outcomes: Array<[string, ConsumeOutcome]> = [];
  const failingReservations = new Set<string>();
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
      async (event) => {
        if (failingReservations.has(event.data.reservation_id)) throw new Error('cannot apply');
        handled.push(event);
      },
      { logger, maxAttempts: 2, retryDelayMs: 50, onOutcome: (key, outcome) => outcomes.push([key, outcome]) },
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
    const received = await eventually(async () => handled.find((e) => e.id === event.id));
    expect(received).toEqual(event);
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

  it('refuses to publish at once, instead of hanging, when RabbitMQ is unreachable', async () => {
    const unreachable = new BrokerConnection(brokerConfig({ url: 'amqp://guest:guest@127.0.0.1:1' }), logger, 50);
    void unreachable.connect().catch(() => undefined);
    await expect(unreachable.check()).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(publishEvent(unreachable, createTicketingEvent('reservation.expired', eventData()))).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    await unreachable.stop();
  });
});
