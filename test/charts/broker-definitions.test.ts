/**
 * Broker least privilege in the chart (issue 10, item 8): the RabbitMQ definitions of the dev cluster
 * (k8s/values/rabbitmq.yaml, loaded by the Bitnami chart at boot) declare exactly the services' topology and
 * one user per process with the platform's permission regexes; the ticketing chart gives each process that
 * talks to the broker its own credentials, and none to those that do not.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { brokerConfig, leastPrivilegePermissions } from '@ticketing/platform';
import { ROOT, find, render, type K8sObject } from './helm-tools';

type Any = any;
const readYaml = (file: string): Any => parse(readFileSync(path.join(ROOT, file), 'utf8'));
const rabbitmqValues = readYaml('k8s/values/rabbitmq.yaml');
const chartValues = readYaml('charts/ticketing/values.yaml');
const RELEASE = 'ticketing';

/** The definitions JSON as RabbitMQ gets it: Bitnami renders the extraSecrets through tpl first. */
function definitions(): Any {
  const secretName = rabbitmqValues.loadDefinition.existingSecret;
  const raw: string = rabbitmqValues.extraSecrets[secretName]['load_definition.json'];
  const rendered = raw
    .replaceAll('{{ .Values.auth.username }}', rabbitmqValues.auth.username)
    .replaceAll('{{ .Values.auth.password }}', rabbitmqValues.auth.password);
  expect(rendered).not.toContain('{{');
  return JSON.parse(rendered);
}

function env(o: K8sObject): Record<string, Any> {
  const spec = o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.spec : o.spec.template.spec;
  return Object.fromEntries(spec.containers[0].env.map((e: { name: string }) => [e.name, e]));
}

describe('RabbitMQ definitions of the dev cluster', () => {
  test('when the Bitnami chart starts RabbitMQ, then it loads the definitions Secret it creates', () => {
    expect(rabbitmqValues.loadDefinition.enabled).toBe(true);
    expect(Object.keys(rabbitmqValues.extraSecrets)).toContain(rabbitmqValues.loadDefinition.existingSecret);
    expect(rabbitmqValues.extraConfiguration).toContain('load_definitions = /app/load_definition.json');
  });

  test('when the definitions declare the topology, then it is exactly what the services would declare themselves', () => {
    const vhost = (brokerConfig({ url: 'amqp://x' }) as Any).vhosts['/'];
    const defs = definitions();
    expect(defs.exchanges.map((e: Any) => [e.name, e.type, e.durable, e.auto_delete]).sort()).toEqual(
      Object.entries(vhost.exchanges).map(([name, e]: [string, Any]) => [name, e.type, e.options.durable, false]).sort(),
    );
    expect(defs.queues.map((q: Any) => [q.name, q.durable, q.arguments]).sort()).toEqual(
      Object.entries(vhost.queues).map(([name, q]: [string, Any]) => [name, q.options.durable, q.options.arguments ?? {}]).sort(),
    );
    expect(defs.bindings.map((b: Any) => [b.source, b.destination, b.destination_type, b.routing_key]).sort()).toEqual(
      Object.values(vhost.bindings).map((b: Any) => [b.source, b.destination, b.destinationType, b.bindingKey]).sort(),
    );
  });

  test('when each process has its own user, then its permissions are the platform\'s least-privilege regexes and nobody but the admin may configure', () => {
    const defs = definitions();
    const expected = leastPrivilegePermissions();
    const permissionsOf = (user: string) => {
      const { configure, write, read } = defs.permissions.find((p: Any) => p.user === user && p.vhost === '/');
      return { configure, write, read };
    };
    expect(permissionsOf(chartValues.rabbitmq.booking.username)).toEqual(expected.booking);
    expect(permissionsOf(chartValues.rabbitmq.eventConsumer.username)).toEqual(expected.eventConsumer);
    const configurers = defs.permissions.filter((p: Any) => p.configure !== '^$').map((p: Any) => p.user);
    expect(configurers).toEqual([rabbitmqValues.auth.username]);
    const admin = defs.users.find((u: Any) => u.name === rabbitmqValues.auth.username);
    expect(admin.tags).toBe('administrator');
    for (const user of [chartValues.rabbitmq.booking.username, chartValues.rabbitmq.eventConsumer.username]) {
      expect(defs.users.find((u: Any) => u.name === user)?.tags).toBe('');
    }
  });

  test('when the chart reads a service user\'s password, then it is the password the definitions give that user', () => {
    const defs = definitions();
    for (const user of [chartValues.rabbitmq.booking, chartValues.rabbitmq.eventConsumer]) {
      const password = rabbitmqValues.extraSecrets[user.passwordSecret.name]?.[user.passwordSecret.key];
      expect(password).toBeDefined();
      expect(password).toMatch(/^[A-Za-z0-9._~-]+$/); // it goes into RABBITMQ_URL
      expect(defs.users.find((u: Any) => u.name === user.username)?.password).toBe(password);
    }
  });
});

describe('the ticketing chart with the dev values', () => {
  const objects = render({ valuesFiles: ['k8s/values/ticketing.yaml'] });

  test('when the booking API and the consumer connect, then each uses its own user and only checks the topology', () => {
    const booking = env(find(objects, 'Deployment', `${RELEASE}-booking-api`));
    const consumer = env(find(objects, 'Deployment', `${RELEASE}-event-consumer`));
    expect(booking.RABBITMQ_URL.value).toBe('amqp://ticketing-booking:$(RABBITMQ_PASSWORD)@rabbitmq:5672');
    expect(booking.RABBITMQ_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'rabbitmq-ticketing-users', key: 'booking-password' });
    expect(consumer.RABBITMQ_URL.value).toBe('amqp://ticketing-event-consumer:$(RABBITMQ_PASSWORD)@rabbitmq:5672');
    expect(consumer.RABBITMQ_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'rabbitmq-ticketing-users', key: 'event-consumer-password' });
    expect([booking.RABBITMQ_DECLARE_TOPOLOGY.value, consumer.RABBITMQ_DECLARE_TOPOLOGY.value]).toEqual(['false', 'false']);
  });

  test('when rabbitmq.vhost names another virtual host, then every broker URL ends with it, percent-encoded', () => {
    const staged = render({ valuesFiles: ['k8s/values/ticketing.yaml'], set: ['rabbitmq.vhost=staging/eu'] });
    for (const name of [`${RELEASE}-booking-api`, `${RELEASE}-event-consumer`]) {
      expect(env(find(staged, 'Deployment', name)).RABBITMQ_URL.value).toMatch(/@rabbitmq:5672\/staging%2Feu$/);
    }
    expect(() => render({ set: ['rabbitmq.vhost=two words'] })).toThrow(/vhost/);
  });

  test('when a process does not talk to the broker, then it gets no broker credentials at all', () => {
    for (const o of [find(objects, 'Deployment', `${RELEASE}-event-api`), find(objects, 'CronJob', `${RELEASE}-expire-reservations`)]) {
      expect(Object.keys(env(o)).filter((name) => name.startsWith('RABBITMQ_'))).toEqual([]);
    }
  });

  test('when a service user has no username, then that process falls back to the shared user, which declares the topology', () => {
    const shared = render({ valuesFiles: ['k8s/values/ticketing.yaml'], set: ['rabbitmq.booking.username='] });
    const booking = env(find(shared, 'Deployment', `${RELEASE}-booking-api`));
    expect(booking.RABBITMQ_URL.value).toBe('amqp://ticketing:$(RABBITMQ_PASSWORD)@rabbitmq:5672');
    expect(booking.RABBITMQ_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'rabbitmq', key: 'rabbitmq-password' });
    expect(booking.RABBITMQ_DECLARE_TOPOLOGY.value).toBe('true');
    expect(env(find(shared, 'Deployment', `${RELEASE}-event-consumer`)).RABBITMQ_URL.value).toContain('ticketing-event-consumer:');
  });
});
