/**
 * The chart's part of issue 12: a generated Ed25519 ticket signing key in the chart-made Secret that the booking
 * service accepts in production, handed to the booking API and the expiry job, and the code validity as a value.
 */
import { loadBookingConfig } from '../../services/booking-service/src/config';
import { createTicketKeyRing } from '../../services/booking-service/src/domain/ticket-signing';
import { find, podSpec, RELEASE, render, type K8sObject } from './helm-tools';

const BOOKING_API = `${RELEASE}-booking-api`;
const EXPIRY = `${RELEASE}-expire-reservations`;
const envOf = (o: K8sObject): Record<string, any> =>
  Object.fromEntries((podSpec(o).containers[0].env ?? []).map((e: { name: string }) => [e.name, e]));

describe('ticket signing keys in the chart', () => {
  const objects = render();

  test('when the chart makes the Secret, then it holds a generated Ed25519 key that production booking config accepts', async () => {
    const secret = find(objects, 'Secret', `${RELEASE}-secrets`);
    const pem = Buffer.from(secret.data['ticket-signing-keys'], 'base64').toString();
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const config = loadBookingConfig({
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'a'.repeat(32),
      INTERNAL_API_TOKEN: 'b'.repeat(32),
      TICKET_SIGNING_SECRET: 'c'.repeat(32),
      TICKET_SIGNING_KEYS: pem,
      QUEUE_ADMISSION_SECRET: Buffer.from(secret.data['queue-admission-secret'], 'base64').toString(),
    });
    const ring = createTicketKeyRing({ keys: config.TICKET_SIGNING_KEYS });
    expect(ring.development).toBe(false);
    expect(ring.jwks().keys).toHaveLength(1);
  });

  test('when the booking API and the expiry job are rendered, then both read the keys from the Secret and the validity from values', () => {
    for (const [kind, name] of [['Deployment', BOOKING_API], ['CronJob', EXPIRY]]) {
      const env = envOf(find(objects, kind, name));
      expect({ name, ref: env.TICKET_SIGNING_KEYS?.valueFrom.secretKeyRef }).toEqual({ name, ref: { name: `${RELEASE}-secrets`, key: 'ticket-signing-keys' } });
    }
    const config = find(render({ set: ['bookingService.api.ticketCodeValidHoursAfterStart=6'] }), 'ConfigMap', `${RELEASE}-booking-service`);
    expect(config.data.TICKET_CODE_VALID_HOURS_AFTER_START).toBe('6');
    expect(find(objects, 'ConfigMap', `${RELEASE}-booking-service`).data.TICKET_CODE_VALID_HOURS_AFTER_START).toBe('24');
  });

  test('when an existing Secret is used, then the processes read ticket-signing-keys from it', () => {
    const env = envOf(find(render({ set: ['secrets.existingSecret=prod-secrets'] }), 'Deployment', BOOKING_API));
    expect(env.TICKET_SIGNING_KEYS.valueFrom.secretKeyRef).toEqual({ name: 'prod-secrets', key: 'ticket-signing-keys' });
  });
});
