/**
 * Issue 10, finding "Broker": a forged `reservation.confirmed` published with shared credentials sold two seats.
 * Each process now has its own RabbitMQ user (the chart's per-service users, docs/security.md "Broker least
 * privilege"): booking may only publish to the exchange, the event consumer may only consume its queues, neither
 * may declare, bind, purge or delete anything. Real users with exactly the chart's permission regexes are created
 * on the real broker; the processes run under them, and every attack with a stolen credential is refused.
 */
import { randomUUID } from 'node:crypto';
import amqplib, { type ConfirmChannel } from 'amqplib';
import { BrokerAsPromised } from 'rascal';
import {
  EVENT_SERVICE_DEAD_LETTER_QUEUE,
  EVENT_SERVICE_QUEUE,
  TICKETING_EXCHANGE,
  brokerConfig,
  createTicketingEvent,
  leastPrivilegePermissions,
  type Knex,
} from '@ticketing/platform';
import { startEventConsumer, type EventConsumer } from '../../services/event-service/src/entry-points/consumer';
import type { RunningBookingApi } from '../../services/booking-service/src/entry-points/api';
import type { EventApi } from '../../services/event-service/src/entry-points/api';
import {
  confirm,
  createTestSession,
  eventTestDatabase,
  eventually,
  newUser,
  nukeNamespace,
  request,
  reserve,
  seatStates,
  startBookingSide,
  startEventSide,
} from '../../services/booking-service/test/support/harness';
import { EVENT_TEST_DATABASE_URL, RABBITMQ_URL, silentLogLevel, uniqueBrokerNamespace } from '../support/infra';
import { brokerUrlAs, createBrokerUser, deleteBrokerUser } from '../support/rabbitmq-users';

jest.setTimeout(90_000);

const namespace = uniqueBrokerNamespace('least-privilege');
const suffix = randomUUID().slice(0, 8);
const bookingUser = { name: `test-booking-${suffix}`, password: `b-${randomUUID()}` };
const consumerUser = { name: `test-event-consumer-${suffix}`, password: `c-${randomUUID()}` };
const bookingUrl = brokerUrlAs(RABBITMQ_URL, bookingUser.name, bookingUser.password);
const consumerUrl = brokerUrlAs(RABBITMQ_URL, consumerUser.name, consumerUser.password);
const fq = (name: string) => `${namespace}:${name}`;

type Outcome = 'allowed' | 'refused';

/** Runs one AMQP operation with the given credentials; 'refused' when the broker answers 403 ACCESS_REFUSED. */
async function attempt(url: string, action: (channel: ConfirmChannel) => Promise<unknown>): Promise<Outcome> {
  const connection = await amqplib.connect(url);
  connection.on('error', () => undefined);
  // A refused publish only closes the channel; the reason comes with the channel's 'error' event.
  let channelError: Error | undefined;
  try {
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) => (channelError = error));
    await action(channel);
    await channel.close();
    return 'allowed';
  } catch (error) {
    const reasons = `${(error as Error).message} ${channelError?.message ?? ''}`;
    if (/ACCESS[-_]REFUSED|403/.test(reasons)) return 'refused';
    throw error;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

const publishConfirmed = (channel: ConfirmChannel, exchange: string, routingKey: string, body: unknown) =>
  new Promise<void>((resolve, reject) => {
    channel.publish(exchange, routingKey, Buffer.from(JSON.stringify(body)), { persistent: true }, (error) =>
      error ? reject(error) : resolve(),
    );
    channel.once('close', () => reject(new Error('channel closed')));
  });

describe('broker least privilege (per-service RabbitMQ users)', () => {
  let event: EventApi;
  let booking: RunningBookingApi;
  let consumer: EventConsumer;
  let eventDb: Knex;

  beforeAll(async () => {
    // The topology exists before either process connects, as the broker's definitions make it in the chart.
    const admin = await BrokerAsPromised.create(brokerConfig({ url: RABBITMQ_URL, namespace }));
    await admin.shutdown();
    const permissions = leastPrivilegePermissions(namespace);
    await createBrokerUser(bookingUser.name, bookingUser.password, permissions.booking);
    await createBrokerUser(consumerUser.name, consumerUser.password, permissions.eventConsumer);

    eventDb = eventTestDatabase();
    event = await startEventSide();
    booking = await startBookingSide(event.url, {
      RABBITMQ_URL: bookingUrl,
      RABBITMQ_DECLARE_TOPOLOGY: false,
      OUTBOX_POLL_INTERVAL_MS: 100,
      brokerNamespace: namespace,
    });
    consumer = await startEventConsumer({
      DATABASE_URL: EVENT_TEST_DATABASE_URL,
      RABBITMQ_URL: consumerUrl,
      RABBITMQ_DECLARE_TOPOLOGY: false,
      METRICS_PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: silentLogLevel as 'silent',
      CONSUMER_RETRY_DELAY_MS: 50,
      brokerNamespace: namespace,
    });
  });

  afterAll(async () => {
    await booking?.stop();
    await consumer?.stop();
    await event?.stop();
    await eventDb?.destroy();
    await nukeNamespace(namespace);
    await deleteBrokerUser(bookingUser.name);
    await deleteBrokerUser(consumerUser.name);
  });

  test('when booking and the consumer run under their own restricted users, then a confirmed seat still ends sold', async () => {
    await eventually(async () => (await request(consumer.url, 'GET', '/ready')).status === 200, 20_000);
    await eventually(async () => (await request(booking.url, 'GET', '/ready')).body.checks.rabbitmq.status === 'up', 20_000);
    const { sessionId, seatIds } = await createTestSession(event.url, { seats: 2 });
    const buyer = newUser();
    const held = await reserve(booking.url, buyer, sessionId, seatIds);
    expect(held.status).toBe(201);
    expect((await confirm(booking.url, buyer, held.body.id)).status).toBe(200);
    const sold = await eventually(async () => {
      const states = await seatStates(eventDb, seatIds);
      return seatIds.every((id) => states.get(id)?.status === 'sold') || undefined;
    }, 20_000);
    expect(sold).toBe(true);
  });

  test('when a restricted user is told to declare the topology, then the broker refuses it (why the chart turns declaring off)', async () => {
    const failure = await BrokerAsPromised.create(brokerConfig({ url: bookingUrl, namespace })).then(
      async (broker) => {
        await broker.shutdown();
        return undefined;
      },
      (error: Error & { broker?: symbol }) => error,
    );
    expect(failure?.message).toMatch(/ACCESS[-_]REFUSED|403/);
    // Rascal hands back the half-made broker under a symbol; shut it down or its timers keep jest alive.
    const key = failure?.broker;
    if (typeof key === 'symbol') await (failure as unknown as Record<symbol, BrokerAsPromised | undefined>)[key]?.shutdown().catch(() => undefined);
  });

  test('when the consumer retries a failed message, then it may put it back into its own queue through the default exchange', async () => {
    // Rascal's delayed retry republishes to the queue through the default exchange: the one write the consumer
    // keeps (docs/security.md names what it allows). A harmless event: it releases nothing anybody holds.
    const harmless = createTicketingEvent('reservation.cancelled', {
      reservation_id: randomUUID(),
      session_id: randomUUID(),
      user_id: randomUUID(),
      session_seat_ids: [randomUUID()],
    });
    expect(await attempt(consumerUrl, (ch) => publishConfirmed(ch, '', fq(EVENT_SERVICE_QUEUE), harmless))).toBe('allowed');
  });

  test('when stolen credentials are used for anything beyond their job, then every attempt is refused and no forged message sells a seat', async () => {
    // A seat held but not paid for: the forged confirm would sell it.
    const { sessionId, seatIds } = await createTestSession(event.url, { seats: 1 });
    const victim = newUser();
    const held = await reserve(booking.url, victim, sessionId, seatIds);
    expect(held.status).toBe(201);
    const forged = createTicketingEvent('reservation.confirmed', {
      reservation_id: held.body.id,
      session_id: sessionId,
      user_id: victim,
      session_seat_ids: seatIds,
    });

    const attacks: Array<[string, string, (channel: ConfirmChannel) => Promise<unknown>]> = [
      ['consumer', 'publish a forged reservation.confirmed to the exchange', (ch) => publishConfirmed(ch, fq(TICKETING_EXCHANGE), 'reservation.confirmed', forged)],
      ['consumer', 'declare an exchange', (ch) => ch.assertExchange(fq(`rogue-${suffix}`), 'topic', { durable: false, autoDelete: true })],
      ['consumer', 'declare a queue', (ch) => ch.assertQueue(fq(`rogue-${suffix}`), { durable: false, autoDelete: true })],
      ['consumer', 'bind its queue to amq.topic', (ch) => ch.bindQueue(fq(EVENT_SERVICE_QUEUE), 'amq.topic', '#')],
      ['consumer', 'publish a forged reservation.confirmed to another exchange (amq.topic)', (ch) => publishConfirmed(ch, 'amq.topic', 'reservation.confirmed', forged)],
      ['consumer', 'delete the dead-letter queue', (ch) => ch.deleteQueue(fq(EVENT_SERVICE_DEAD_LETTER_QUEUE))],
      ['booking', 'consume the event service queue', (ch) => ch.consume(fq(EVENT_SERVICE_QUEUE), () => undefined)],
      ['booking', 'read the dead-letter queue', (ch) => ch.get(fq(EVENT_SERVICE_DEAD_LETTER_QUEUE))],
      ['booking', 'declare a queue to tap the exchange', (ch) => ch.assertQueue(fq(`tap-${suffix}`), { durable: false, autoDelete: true })],
      ['booking', 'bind a queue to the exchange', (ch) => ch.bindQueue(fq(EVENT_SERVICE_QUEUE), fq(TICKETING_EXCHANGE), 'tap.#')],
      ['booking', 'delete the exchange', (ch) => ch.deleteExchange(fq(TICKETING_EXCHANGE))],
      ['booking', 'publish to another exchange (amq.topic)', (ch) => publishConfirmed(ch, 'amq.topic', 'reservation.confirmed', forged)],
    ];
    const outcomes: Array<{ who: string; what: string; outcome: Outcome }> = [];
    for (const [who, what, action] of attacks) {
      outcomes.push({ who, what, outcome: await attempt(who === 'booking' ? bookingUrl : consumerUrl, action) });
    }

    // Lost: the forged confirm sold the held seat, or the topology is gone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const seat = (await seatStates(eventDb, seatIds)).get(seatIds[0]);
    const stillThere = await attempt(RABBITMQ_URL, async (ch) => {
      await ch.checkExchange(fq(TICKETING_EXCHANGE));
      await ch.checkQueue(fq(EVENT_SERVICE_QUEUE));
      await ch.checkQueue(fq(EVENT_SERVICE_DEAD_LETTER_QUEUE));
    });
    const lost = (seat?.status === 'sold' ? 1 : 0) + (stillThere === 'allowed' ? 0 : 1);
    const refused = outcomes.filter((o) => o.outcome === 'refused').length;
    console.log(
      `broker least privilege: tried ${outcomes.length}, refused ${refused}, lost ${lost}\n` +
        outcomes.map((o) => `  ${o.outcome.padEnd(7)} ${o.who}: ${o.what}`).join('\n'),
    );

    expect(outcomes.filter((o) => o.outcome !== 'refused')).toEqual([]);
    expect(seat?.status).toBe('reserved');
    expect(lost).toBe(0);
  });
});
