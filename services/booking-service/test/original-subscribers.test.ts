import { BrokerAsPromised } from 'rascal';
import { EVENT_SERVICE_SUBSCRIPTION, brokerConfig } from '@ticketing/platform';
import type { RunningBookingApi } from '../src/entry-points/api';
import { RABBITMQ_URL, uniqueBrokerNamespace } from '../../../test/support/infra';
import {
  confirm,
  createTestSession,
  eventually,
  newUser,
  request,
  reserve,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from './support/harness';

const system = useBookingSystem();

interface Received {
  type: string;
  data: { reservation_id: string; session_seat_ids: string[]; seat_ids?: string[] };
}

describe('booking events for subscribers written for the original system', () => {
  let booking: RunningBookingApi | undefined;
  let listener: BrokerAsPromised | undefined;

  afterAll(async () => {
    await listener?.shutdown();
    await stopBookingSide(booking);
  });

  test('when a reservation is confirmed or cancelled, then the message on the broker carries data.seat_ids equal to session_seat_ids', async () => {
    const namespace = uniqueBrokerNamespace('original-subscribers');
    booking = await startBookingSide(system.event.url, { brokerNamespace: namespace, OUTBOX_POLL_INTERVAL_MS: 100 });
    listener = await BrokerAsPromised.create(brokerConfig({ url: RABBITMQ_URL, namespace }));
    const received: Received[] = [];
    const subscription = await listener.subscribe(EVENT_SERVICE_SUBSCRIPTION);
    subscription.on('message', (_message, content: Received, ackOrNack) => {
      received.push(content);
      ackOrNack();
    });
    subscription.on('error', () => undefined);

    const { sessionId, seatIds } = await createTestSession(system.event.url, { seats: 3 });
    const buyer = newUser();
    const bought = await reserve(booking.url, buyer, sessionId, seatIds.slice(0, 2));
    expect(bought.status).toBe(201);
    expect((await confirm(booking.url, buyer, bought.body.id)).status).toBe(200);
    const dropper = newUser();
    const dropped = await reserve(booking.url, dropper, sessionId, seatIds.slice(2));
    expect(dropped.status).toBe(201);
    const cancelled = await request(booking.url, 'DELETE', `/api/v1/reservations/${dropped.body.id}`, { headers: { 'x-user-id': dropper } });
    expect(cancelled.status).toBeLessThan(300);

    const find = (type: string, reservationId: string) =>
      received.find((event) => event.type === type && event.data.reservation_id === reservationId);
    const confirmedEvent = await eventually(async () => find('reservation.confirmed', bought.body.id), 15_000);
    const cancelledEvent = await eventually(async () => find('reservation.cancelled', dropped.body.id), 15_000);

    expect(confirmedEvent?.data.seat_ids).toEqual(seatIds.slice(0, 2));
    expect(confirmedEvent?.data.seat_ids).toEqual(confirmedEvent?.data.session_seat_ids);
    expect(cancelledEvent?.data.seat_ids).toEqual(seatIds.slice(2));
    expect(cancelledEvent?.data.seat_ids).toEqual(cancelledEvent?.data.session_seat_ids);
  }, 40_000);
});
