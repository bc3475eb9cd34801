import { randomUUID } from 'node:crypto';
import { BrokerAsPromised } from 'rascal';
import { EVENT_SERVICE_SUBSCRIPTION, brokerConfig, createTicketingEvent, type TicketingEvent } from '@ticketing/platform';
import { createBookingStore } from '../src/data-access/booking-store';
import type { RunningBookingApi } from '../src/entry-points/api';
import { RABBITMQ_URL, uniqueBrokerNamespace } from '../../../test/support/infra';
import { eventually, startBookingSide, stopBookingSide, useBookingSystem } from './support/harness';

// Own database: every outbox row must go to this file's namespace, and only this relay may take them.
const system = useBookingSystem({ privateDatabase: 'relay' });

describe('the outbox relay', () => {
  let booking: RunningBookingApi | undefined;
  let listener: BrokerAsPromised | undefined;

  afterEach(async () => {
    await listener?.shutdown();
    listener = undefined;
    await stopBookingSide(booking);
    booking = undefined;
  });

  it('publishes a backlog of several batches, every row exactly once, without waiting for the poll interval', async () => {
    const namespace = uniqueBrokerNamespace('booking-relay');
    // A poll interval far longer than the test: only the relay draining full batches at once can publish it all.
    booking = await startBookingSide(system.event.url, {
      DATABASE_URL: system.privateDatabase.url,
      OUTBOX_POLL_INTERVAL_MS: 600_000,
      OUTBOX_BATCH_SIZE: 100,
      brokerNamespace: namespace,
    });

    listener = await BrokerAsPromised.create(brokerConfig({ url: RABBITMQ_URL, namespace }));
    const received: string[] = [];
    const subscription = await listener.subscribe(EVENT_SERVICE_SUBSCRIPTION);
    subscription.on('message', (message, _content, ackOrNack) => {
      received.push(String(message.properties.messageId));
      ackOrNack();
    });
    subscription.on('error', () => undefined);

    const events: TicketingEvent[] = Array.from({ length: 350 }, (_, index) =>
      createTicketingEvent('reservation.expired', {
        reservation_id: randomUUID(),
        session_id: randomUUID(),
        user_id: randomUUID(),
        session_seat_ids: [randomUUID()],
        expiry_time: new Date(Date.now() - index).toISOString(),
      }),
    );
    await createBookingStore(booking.db).outbox.addMany(events);
    booking.relay.kick();

    await eventually(async () => (await booking!.relay.backlog()).rows === 0 || undefined, 20_000);
    await eventually(async () => received.length >= events.length || undefined, 10_000);
    // Anything sent twice would arrive right behind the rest.
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(received).toHaveLength(events.length);
    expect(new Set(received).size).toBe(events.length);
    expect(new Set(received)).toEqual(new Set(events.map((e) => e.id)));
    const rows = await booking.db('outbox').whereIn('id', events.map((e) => e.id)).select('published_at', 'attempts');
    expect(rows).toHaveLength(events.length);
    expect(rows.every((row) => row.published_at !== null && row.attempts === 0)).toBe(true);
  });
});
