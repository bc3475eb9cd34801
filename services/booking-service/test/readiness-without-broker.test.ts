import net from 'node:net';
import { startEventApi, type EventApi } from '../../event-service/src/entry-points/api';
import { migrateEventDatabase } from '../../event-service/src/data-access/database';
import type { RunningBookingApi } from '../src/entry-points/api';
import { EVENT_TEST_DATABASE_URL, silentLogLevel } from '../../../test/support/infra';
import { confirmedPurchase, request, startBookingSide, stopBookingSide } from './support/harness';

/** A port nothing listens on: RabbitMQ "down" as a refused connection. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describe('readiness while RabbitMQ is unreachable', () => {
  let event: EventApi;
  let booking: RunningBookingApi;

  beforeAll(async () => {
    const unreachableBroker = `amqp://guest:guest@127.0.0.1:${await closedPort()}`;
    await migrateEventDatabase(EVENT_TEST_DATABASE_URL);
    event = await startEventApi({
      PORT: 0,
      HOST: '127.0.0.1',
      DATABASE_URL: EVENT_TEST_DATABASE_URL,
      RABBITMQ_URL: unreachableBroker,
      LOG_LEVEL: silentLogLevel as never,
    });
    booking = await startBookingSide(event.url, { RABBITMQ_URL: unreachableBroker });
  });

  afterAll(async () => {
    await stopBookingSide(booking);
    await event?.stop();
  });

  test('when the broker is down, then the booking API stays ready and reports the broker as down but not required', async () => {
    const ready = await request(booking.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks).toMatchObject({
      database: { status: 'up' },
      redis: { status: 'up' },
      rabbitmq: { status: 'down', required: false },
    });
  });

  test('when the broker is down, then booking_broker_connected is 0', async () => {
    const metrics = await request<string>(booking.url, 'GET', '/metrics');
    expect(String(metrics.body)).toMatch(/^booking_broker_connected(\{[^}]*\})? 0$/m);
  });

  test('when the broker is down, then a ready booking API still holds and confirms (the event waits in the outbox)', async () => {
    const { confirmed } = await confirmedPurchase(event.url, booking.url);
    expect(confirmed.body.status).toBe('confirmed');
  });

  test('when the broker is down, then the event API is ready: it checks only its database', async () => {
    const ready = await request(event.url, 'GET', '/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ database: { status: 'up' } });
  });
});
