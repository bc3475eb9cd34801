/**
 * compose.yaml, the local infrastructure for a machine with Docker only: the ports and credentials it
 * publishes are exactly what the processes connect to when nothing is configured.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './helm-tools';
import { loadBookingConfig } from '../../services/booking-service/src/config';
import { loadEventConfig } from '../../services/event-service/src/config';

type Any = any;
const compose: Any = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'));
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** "127.0.0.1:5432:5432" → { host: "127.0.0.1", published: 5432, target: 5432 } */
function ports(service: string) {
  return (compose.services[service].ports as string[]).map((spec) => {
    const parts = String(spec).split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop());
    return { host: parts[0] ?? '0.0.0.0', published, target };
  });
}

describe('compose.yaml', () => {
  const event = loadEventConfig({});
  const booking = loadBookingConfig({});

  test('when nothing is configured, then PostgreSQL is where DATABASE_URL points, with trust auth for its user', () => {
    for (const url of [new URL(event.DATABASE_URL), new URL(booking.DATABASE_URL)]) {
      expect(ports('postgres')).toEqual([{ host: url.hostname, published: Number(url.port), target: 5432 }]);
      expect(url.username).toBe('postgres');
      expect(url.password).toBe('');
    }
    expect(compose.services.postgres.environment.POSTGRES_HOST_AUTH_METHOD).toBe('trust');
    expect(compose.services.postgres.environment.POSTGRES_USER ?? 'postgres').toBe('postgres');
  });

  test('when nothing is configured, then Redis is where REDIS_URL points, without a password', () => {
    const url = new URL(booking.REDIS_URL);
    expect(ports('redis')).toEqual([{ host: url.hostname, published: Number(url.port), target: 6379 }]);
    expect(url.password).toBe('');
    expect(JSON.stringify(compose.services.redis)).not.toMatch(/requirepass/);
  });

  test('when nothing is configured, then RabbitMQ is where RABBITMQ_URL points, with the same user and password, reachable from the host', () => {
    for (const url of [new URL(event.RABBITMQ_URL), new URL(booking.RABBITMQ_URL)]) {
      expect(ports('rabbitmq')).toContainEqual({ host: url.hostname, published: Number(url.port), target: 5672 });
      expect(compose.services.rabbitmq.environment.RABBITMQ_DEFAULT_USER).toBe(decodeURIComponent(url.username));
      expect(compose.services.rabbitmq.environment.RABBITMQ_DEFAULT_PASS).toBe(decodeURIComponent(url.password));
    }
    // guest is refused from anything but loopback unless loopback_users is emptied.
    expect(compose.services.rabbitmq.environment.RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS).toContain('loopback_users []');
  });

  test('when a newcomer reads the README, then one line tells them to start it', () => {
    expect(readme).toContain('docker compose up -d --wait');
    expect(readme).toContain('(compose.yaml)');
  });

  test('when CI starts the same infrastructure, then it uses the same major versions as compose', () => {
    const ci: Any = parse(readFileSync(path.join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8'));
    for (const name of ['postgres', 'redis', 'rabbitmq']) {
      expect(compose.services[name].image).toBe(ci.jobs.test.services[name].image);
    }
  });
});
