/**
 * The chart's part of issue 15: a generated admission-token secret that production accepts, handed to the
 * booking API and the expiry job (both load the booking config), and the waiting room's settings as values.
 */
import { find, podSpec, RELEASE, render, type K8sObject } from './helm-tools';

const BOOKING_API = `${RELEASE}-booking-api`;
const EXPIRY = `${RELEASE}-expire-reservations`;
const envOf = (o: K8sObject): Record<string, any> =>
  Object.fromEntries((podSpec(o).containers[0].env ?? []).map((e: { name: string }) => [e.name, e]));

describe('waiting room in the chart', () => {
  const objects = render();

  test('when the chart makes the Secret, then it holds a queue admission secret of production length', () => {
    const secret = find(objects, 'Secret', `${RELEASE}-secrets`);
    expect(Buffer.from(secret.data['queue-admission-secret'], 'base64').length).toBeGreaterThanOrEqual(32);
  });

  test('when the booking API and the expiry job are rendered, then both read QUEUE_ADMISSION_SECRET from the Secret', () => {
    for (const [kind, name] of [['Deployment', BOOKING_API], ['CronJob', EXPIRY]]) {
      const env = envOf(find(objects, kind, name));
      expect({ name, ref: env.QUEUE_ADMISSION_SECRET?.valueFrom.secretKeyRef }).toEqual({ name, ref: { name: `${RELEASE}-secrets`, key: 'queue-admission-secret' } });
    }
    const env = envOf(find(render({ set: ['secrets.existingSecret=prod-secrets'] }), 'Deployment', BOOKING_API));
    expect(env.QUEUE_ADMISSION_SECRET.valueFrom.secretKeyRef).toEqual({ name: 'prod-secrets', key: 'queue-admission-secret' });
  });

  test('when the waiting room values are set, then the booking ConfigMap carries them (defaults otherwise)', () => {
    expect(find(objects, 'ConfigMap', `${RELEASE}-booking-service`).data).toMatchObject({
      WAITING_ROOM_TICK_MS: '250',
      WAITING_ROOM_SOLD_OUT_CHECK_MS: '1000',
      WAITING_ROOM_REDIS_PREFIX: 'waiting-room',
    });
    const tuned = render({ set: ['bookingService.api.waitingRoom.tickMs=0', 'bookingService.api.waitingRoom.redisPrefix=shop-queue'] });
    expect(find(tuned, 'ConfigMap', `${RELEASE}-booking-service`).data).toMatchObject({ WAITING_ROOM_TICK_MS: '0', WAITING_ROOM_REDIS_PREFIX: 'shop-queue' });
  });
});
