/**
 * The chart's edge settings (docs/security.md, "The edge: limits and hardening"): production rate limits,
 * trusted proxy hops and the CORS allow-list reach the API processes; the local kind values keep the
 * per-address limit off for load tests from one address.
 */
import { CHART, RELEASE, find, helm, podSpec, render, type K8sObject } from './helm-tools';

const EVENT_API = `${RELEASE}-event-api`;
const BOOKING_API = `${RELEASE}-booking-api`;

const envOf = (o: K8sObject): Record<string, string | undefined> =>
  Object.fromEntries((podSpec(o).containers[0].env ?? []).map((e: { name: string; value?: string }) => [e.name, e.value]));

describe('edge settings in the chart', () => {
  test('when rendered with the defaults, then the booking API gets production rate limits and both APIs trust one proxy hop', () => {
    const objects = render({});
    const booking = envOf(find(objects, 'Deployment', BOOKING_API));
    expect(booking).toMatchObject({
      RATE_LIMIT_WINDOW_SECONDS: '60',
      RATE_LIMIT_RESERVATIONS_PER_USER: '20',
      RATE_LIMIT_RESERVATIONS_PER_ADDRESS: '120',
      RATE_LIMIT_CONFIRMS_PER_USER: '20',
      RATE_LIMIT_CONFIRMS_PER_ADDRESS: '120',
      REDIS_COMMAND_TIMEOUT_MS: '1000',
      TRUST_PROXY_HOPS: '1',
      CORS_ALLOWED_ORIGINS: '',
    });
    expect(envOf(find(objects, 'Deployment', EVENT_API))).toMatchObject({ TRUST_PROXY_HOPS: '1', CORS_ALLOWED_ORIGINS: '' });
  });

  test('when origins are listed, then both APIs get them comma-separated', () => {
    const objects = render({ set: ['edge.corsAllowedOrigins={https://tickets.example.com,https://admin.example.com}'] });
    for (const name of [EVENT_API, BOOKING_API]) {
      expect(envOf(find(objects, 'Deployment', name)).CORS_ALLOWED_ORIGINS).toBe('https://tickets.example.com,https://admin.example.com');
    }
  });

  test('when the local kind values are used, then no per-address limit and no trusted proxy', () => {
    const booking = envOf(find(render({ valuesFiles: ['k8s/values/ticketing.yaml'] }), 'Deployment', BOOKING_API));
    expect(booking).toMatchObject({ RATE_LIMIT_RESERVATIONS_PER_ADDRESS: '0', RATE_LIMIT_CONFIRMS_PER_ADDRESS: '0', RATE_LIMIT_RESERVATIONS_PER_USER: '20', TRUST_PROXY_HOPS: '0' });
  });

  test.each([
    ['edge.corsAllowedOrigins={https://shop.example.com/path}', /corsAllowedOrigins/],
    ['bookingService.api.rateLimits.reservationsPerUser=-1', /reservationsPerUser/],
    ['edge.trustProxyHops=many', /trustProxyHops/],
  ])('when %s is set, then the schema refuses it', (set, message) => {
    const r = helm(['template', RELEASE, CHART, '--set', set]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
