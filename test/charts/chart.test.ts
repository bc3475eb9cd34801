/**
 * The ticketing Helm chart, rendered by real helm with three value sets and checked against the
 * Kubernetes schemas and against what the services need to run in a cluster.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CHART,
  K8sObject,
  NAMESPACE,
  RELEASE,
  WORKLOAD_KINDS,
  find,
  helm,
  podSpec,
  render,
  schemaErrors,
  unknownFieldErrors,
} from './helm-tools';

const VALUE_SETS = {
  default: {},
  production: { valuesFiles: ['charts/ticketing/ci/production-values.yaml'] },
  // Exactly what `skaffold run -p kind,monitoring` deploys.
  monitoring: { valuesFiles: ['k8s/values/ticketing.yaml', 'k8s/values/ticketing-monitoring.yaml'] },
};
type SetName = keyof typeof VALUE_SETS;

const rendered = {} as Record<SetName, K8sObject[]>;

beforeAll(() => {
  for (const name of Object.keys(VALUE_SETS) as SetName[]) rendered[name] = render(VALUE_SETS[name]);
});

const EVENT_API = `${RELEASE}-event-api`;
const BOOKING_API = `${RELEASE}-booking-api`;
const CONSUMER = `${RELEASE}-event-consumer`;
const EXPIRY = `${RELEASE}-expire-reservations`;
const EVENT_MIGRATE = `${RELEASE}-event-migrate`;
const BOOKING_MIGRATE = `${RELEASE}-booking-migrate`;

function container(o: K8sObject, name?: string): any {
  const containers = podSpec(o).containers;
  return name ? containers.find((c: { name: string }) => c.name === name) : containers[0];
}
function envOf(c: any): Record<string, any> {
  return Object.fromEntries((c.env ?? []).map((e: { name: string }) => [e.name, e]));
}

describe('helm lint', () => {
  test('passes --strict with every value set', () => {
    for (const set of Object.values(VALUE_SETS)) {
      const args = ['lint', '--strict', CHART, '--namespace', NAMESPACE];
      for (const f of (set as { valuesFiles?: string[] }).valuesFiles ?? []) args.push('-f', f);
      const r = helm(args);
      expect({ status: r.status, out: r.stdout + r.stderr }).toEqual({ status: 0, out: expect.stringContaining('0 chart(s) failed') });
    }
  });
});

describe('rendered objects match the Kubernetes schemas', () => {
  test.each(Object.keys(VALUE_SETS) as SetName[])('%s values: OpenAPI schema of every apiVersion/kind', (name) => {
    expect(rendered[name].length).toBeGreaterThan(10);
    expect(schemaErrors(rendered[name])).toEqual([]);
  });

  test('no unknown or misplaced fields in any object of any value set', () => {
    const all = Object.values(rendered).flat();
    expect(unknownFieldErrors(all)).toEqual([]);
  });

  test('the checks catch a broken object', () => {
    const deployment = structuredClone(find(rendered.default, 'Deployment', EVENT_API));
    deployment.spec.template.spec.containers[0].ports[0].containerPort = 'eight-thousand';
    deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true;
    expect(schemaErrors([deployment]).join('\n')).toMatch(/containerPort must be integer/);
    expect(unknownFieldErrors([deployment]).join('\n')).toMatch(/readOnlyRootFileSystem/);
  });

  test('monitoring values render ServiceMonitor and PrometheusRule, default values do not', () => {
    const kinds = (objs: K8sObject[]) => objs.map((o) => o.kind);
    expect(kinds(rendered.monitoring)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
    expect(kinds(rendered.default)).not.toContain('ServiceMonitor');
    expect(kinds(rendered.default)).not.toContain('PrometheusRule');
  });
});

describe('workloads', () => {
  test('every pod runs non-root with a read-only root filesystem, no capabilities and a writable /tmp', () => {
    for (const set of Object.values(rendered)) {
      for (const o of set.filter((x) => WORKLOAD_KINDS.includes(x.kind))) {
        const spec = podSpec(o);
        expect({ obj: o.metadata.name, runAsNonRoot: spec.securityContext?.runAsNonRoot }).toEqual({ obj: o.metadata.name, runAsNonRoot: true });
        expect(spec.automountServiceAccountToken).toBe(false);
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          const label = `${o.kind}/${o.metadata.name}/${c.name}`;
          expect({ label, sc: c.securityContext }).toEqual({
            label,
            sc: expect.objectContaining({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }),
          });
          expect({ label, limits: c.resources?.limits?.memory !== undefined }).toEqual({ label, limits: true });
          if (o.kind === 'Pod') continue; // the helm test pod (busybox) writes nothing
          expect({ label, mounts: c.volumeMounts ?? [] }).toEqual({ label, mounts: expect.arrayContaining([{ name: 'tmp', mountPath: '/tmp' }]) });
          expect(spec.volumes).toEqual(expect.arrayContaining([{ name: 'tmp', emptyDir: expect.objectContaining({ sizeLimit: '64Mi' }) }]));
        }
      }
    }
  });

  test('the app images run as the numeric non-root user the Dockerfiles set', () => {
    const spec = podSpec(find(rendered.default, 'Deployment', EVENT_API));
    expect(spec.securityContext).toMatchObject({ runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    for (const file of ['docker/event-service.Dockerfile', 'docker/booking-service.Dockerfile']) {
      expect(readFileSync(path.join(CHART, '..', '..', file), 'utf8')).toMatch(/^USER 1000:1000$/m);
    }
  });

  test.each([
    [EVENT_API, 'http', 8000, ['node', 'services/event-service/dist/entry-points/api-main.js']],
    [BOOKING_API, 'http', 8001, ['node', 'services/booking-service/dist/entry-points/api-main.js']],
    [CONSUMER, 'metrics', 9101, ['node', 'services/event-service/dist/entry-points/consumer-main.js']],
  ])('%s: command, port and probes on /health and /ready', (name, portName, port, command) => {
    const c = container(find(rendered.default, 'Deployment', name));
    expect(c.command).toEqual(command);
    expect(c.ports).toEqual([{ name: portName, containerPort: port, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: portName });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: portName });
    expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: portName });
    expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(30);
  });

  test('each process gets the settings the services read', () => {
    const eventApi = envOf(container(find(rendered.default, 'Deployment', EVENT_API)));
    expect(eventApi.PORT.value).toBe('8000');
    expect(eventApi.DATABASE_URL.value).toBe('postgres://ticketing:$(DATABASE_PASSWORD)@postgresql:5432/event_service');
    expect(eventApi.DATABASE_PASSWORD.valueFrom.secretKeyRef).toEqual({ name: 'postgresql', key: 'password' });
    // The event API never talks to the broker: no credentials (test/charts/broker-definitions.test.ts).
    expect(eventApi.RABBITMQ_URL).toBeUndefined();
    expect(eventApi.INTERNAL_API_TOKEN.valueFrom.secretKeyRef).toEqual({ name: `${RELEASE}-secrets`, key: 'internal-api-token' });
    // $(VAR) expansion only sees variables defined earlier in the list.
    const names = container(find(rendered.default, 'Deployment', EVENT_API)).env.map((e: { name: string }) => e.name);
    expect(names.indexOf('DATABASE_PASSWORD')).toBeLessThan(names.indexOf('DATABASE_URL'));

    const consumer = envOf(container(find(rendered.default, 'Deployment', CONSUMER)));
    expect(consumer.METRICS_PORT.value).toBe('9101');

    const bookingContainer = container(find(rendered.default, 'Deployment', BOOKING_API));
    const booking = envOf(bookingContainer);
    expect(booking.PORT.value).toBe('8001');
    expect(booking.DATABASE_URL.value).toMatch(/\/booking_service$/);
    expect(booking.REDIS_URL.value).toBe('redis://:$(REDIS_PASSWORD)@redis-master:6379');
    const bookingNames = bookingContainer.env.map((e: { name: string }) => e.name);
    expect(bookingNames.indexOf('RABBITMQ_PASSWORD')).toBeLessThan(bookingNames.indexOf('RABBITMQ_URL'));
    expect(booking.TICKET_SIGNING_SECRET.valueFrom.secretKeyRef.key).toBe('ticket-signing-secret');
    expect(booking.INTERNAL_API_TOKEN.valueFrom.secretKeyRef).toEqual(eventApi.INTERNAL_API_TOKEN.valueFrom.secretKeyRef);
    expect(bookingContainer.envFrom).toEqual([{ configMapRef: { name: `${RELEASE}-booking-service` } }]);

    const config = find(rendered.default, 'ConfigMap', `${RELEASE}-booking-service`).data;
    expect(config).toMatchObject({
      EVENT_SERVICE_URL: `http://${EVENT_API}:8000`,
      EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
      RESERVATION_TTL_SECONDS: '600',
      NODE_ENV: 'production',
    });
  });

  test('OTLP endpoint reaches every process when set', () => {
    const objs = render({ set: ['otel.endpoint=http://otel-collector.monitoring:4318'] });
    for (const cm of ['event-service', 'booking-service']) {
      expect(find(objs, 'ConfigMap', `${RELEASE}-${cm}`).data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector.monitoring:4318');
    }
    const migrate = envOf(container(find(objs, 'Job', EVENT_MIGRATE)));
    expect(migrate.OTEL_EXPORTER_OTLP_ENDPOINT.value).toBe('http://otel-collector.monitoring:4318');
    expect(envOf(container(find(objs, 'Deployment', CONSUMER))).OTEL_SERVICE_NAME.value).toBe('event-service-consumer');
    expect(find(rendered.default, 'ConfigMap', `${RELEASE}-event-service`).data.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  test('image references: chart appVersion by default, skaffold tag@digest as given, empty digest dropped', () => {
    expect(container(find(rendered.default, 'Deployment', EVENT_API)).image).toBe('ticketing-event-service:0.1.0');
    const objs = render({
      set: [
        'eventService.image.repository=ticketing-event-service',
        'eventService.image.tag=3f2a1b9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
        'bookingService.image.repository=ticketing-booking-service',
        // what skaffold passes for an image loaded into kind without a registry
        'bookingService.image.tag=9c1d2e3f@',
      ],
    });
    expect(container(find(objs, 'Deployment', EVENT_API)).image).toBe(
      'ticketing-event-service:3f2a1b9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(container(find(objs, 'Deployment', BOOKING_API)).image).toBe('ticketing-booking-service:9c1d2e3f');
    expect(container(find(objs, 'CronJob', EXPIRY)).image).toBe('ticketing-booking-service:9c1d2e3f');
  });
});

describe('database migrations', () => {
  test.each([
    [EVENT_MIGRATE, 'services/event-service/dist/entry-points/migrate-main.js', 'event_service'],
    [BOOKING_MIGRATE, 'services/booking-service/dist/entry-points/migrate-main.js', 'booking_service'],
  ])('%s is a weighted pre-install/pre-upgrade hook that waits for Postgres and gives up in bounded time', (name, script, db) => {
    const job = find(rendered.default, 'Job', name);
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': expect.stringMatching(/^-?\d+$/),
      'helm.sh/hook-delete-policy': 'before-hook-creation',
    });
    expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(1);
    expect(job.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    const spec = podSpec(job);
    expect(spec.restartPolicy).toBe('Never');
    const wait = spec.initContainers[0];
    expect(wait.name).toBe('wait-for-postgres');
    expect(envOf(wait).WAIT_HOST.value).toBe('postgresql');
    expect(envOf(wait).WAIT_PORT.value).toBe('5432');
    expect(Number(envOf(wait).WAIT_TIMEOUT_SECONDS.value)).toBeLessThan(job.spec.activeDeadlineSeconds);
    const c = container(job);
    expect(c.command).toEqual(['node', script]);
    expect(envOf(c).DATABASE_URL.value).toMatch(new RegExp(`/${db}$`));
    expect(envOf(c).SEED_DEMO_DATA.value).toBe('false');
  });

  test('a pre-install hook uses nothing the release itself creates (it runs before them)', () => {
    const createdByRelease = new Set(
      rendered.default.filter((o) => !o.metadata.annotations?.['helm.sh/hook']).map((o) => `${o.kind}/${o.metadata.name}`),
    );
    for (const name of [EVENT_MIGRATE, BOOKING_MIGRATE]) {
      const spec = podSpec(find(rendered.default, 'Job', name));
      expect(spec.serviceAccountName).toBeUndefined();
      const refs: string[] = [];
      for (const c of [...spec.initContainers, ...spec.containers]) {
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) refs.push(`Secret/${e.valueFrom.secretKeyRef.name}`);
          if (e.valueFrom?.configMapKeyRef) refs.push(`ConfigMap/${e.valueFrom.configMapKeyRef.name}`);
        }
        for (const f of c.envFrom ?? []) refs.push(f.configMapRef ? `ConfigMap/${f.configMapRef.name}` : `Secret/${f.secretRef.name}`);
      }
      expect(refs.filter((r) => createdByRelease.has(r))).toEqual([]);
    }
  });

  test('the dev values seed the demo catalog', () => {
    expect(envOf(container(find(rendered.monitoring, 'Job', EVENT_MIGRATE))).SEED_DEMO_DATA.value).toBe('true');
    expect(envOf(container(find(rendered.monitoring, 'Job', BOOKING_MIGRATE))).SEED_DEMO_DATA.value).toBe('true');
  });
});

describe('expiry CronJob', () => {
  test('runs the expiry job every minute, never two at once', () => {
    const cron = find(rendered.default, 'CronJob', EXPIRY);
    expect(cron.spec.schedule).toBe('* * * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBeLessThanOrEqual(60);
    const c = container(cron);
    expect(c.command).toEqual(['node', 'services/booking-service/dist/entry-points/expire-reservations-main.js']);
    expect(podSpec(cron).restartPolicy).toBe('Never');
    expect(envOf(c).DATABASE_URL.value).toMatch(/\/booking_service$/);
    expect(c.envFrom).toEqual([{ configMapRef: { name: `${RELEASE}-booking-service` } }]);
  });
});

describe('services, scaling and disruption', () => {
  test('Services expose 8000 and 8001 to the API pods', () => {
    for (const [name, port, component] of [[EVENT_API, 8000, 'event-api'], [BOOKING_API, 8001, 'booking-api']] as const) {
      const svc = find(rendered.default, 'Service', name);
      expect(svc.spec.ports).toEqual([{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }]);
      expect(svc.spec.selector).toEqual({
        'app.kubernetes.io/name': 'ticketing',
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/component': component,
      });
      const pods = find(rendered.default, 'Deployment', name).spec.template.metadata.labels;
      expect(pods).toMatchObject(svc.spec.selector);
    }
  });

  test('every object carries the app.kubernetes.io labels', () => {
    for (const o of rendered.default) {
      expect({ obj: `${o.kind}/${o.metadata.name}`, labels: o.metadata.labels }).toEqual({
        obj: `${o.kind}/${o.metadata.name}`,
        labels: expect.objectContaining({
          'app.kubernetes.io/name': 'ticketing',
          'app.kubernetes.io/instance': RELEASE,
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/version': '0.1.0',
          'app.kubernetes.io/part-of': 'ticketing',
        }),
      });
    }
  });

  test.each(['default', 'production'] as SetName[])('%s values: HPA and PDB for both APIs; replicas left to the HPA', (set) => {
    for (const name of [EVENT_API, BOOKING_API]) {
      const hpa = find(rendered[set], 'HorizontalPodAutoscaler', name);
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
      expect(hpa.spec.maxReplicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
      expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
      const pdb = find(rendered[set], 'PodDisruptionBudget', name);
      expect(pdb.spec.selector.matchLabels).toEqual(find(rendered[set], 'Service', name).spec.selector);
      expect(find(rendered[set], 'Deployment', name).spec.replicas).toBeUndefined();
    }
    if (set === 'production') {
      expect(find(rendered.production, 'HorizontalPodAutoscaler', BOOKING_API).spec.minReplicas).toBeGreaterThanOrEqual(2);
    }
  });

  test('without autoscaling the Deployment sets replicas itself', () => {
    const objs = render({ set: ['eventService.api.autoscaling.enabled=false', 'eventService.api.replicaCount=2'] });
    expect(find(objs, 'Deployment', EVENT_API).spec.replicas).toBe(2);
    expect(objs.some((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === EVENT_API)).toBe(false);
  });
});

describe('network policy', () => {
  test('only booking-side pods (and listed peers) reach the event API port', () => {
    const np = find(rendered.default, 'NetworkPolicy', EVENT_API);
    expect(np.spec.podSelector.matchLabels).toEqual(find(rendered.default, 'Service', EVENT_API).spec.selector);
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/instance': RELEASE, 'ticketing.io/event-api-client': 'true' } } }],
        ports: [{ protocol: 'TCP', port: 'http' }],
      },
    ]);
    const client = (o: K8sObject) => (o.kind === 'CronJob' ? o.spec.jobTemplate.spec.template.metadata.labels : o.kind === 'Pod' ? o.metadata.labels : o.spec.template.metadata.labels)['ticketing.io/event-api-client'];
    expect(client(find(rendered.default, 'Deployment', BOOKING_API))).toBe('true');
    expect(client(find(rendered.default, 'CronJob', EXPIRY))).toBe('true');
    expect(client(find(rendered.default, 'Pod', `${RELEASE}-test-health`))).toBe('true');
    expect(client(find(rendered.default, 'Deployment', EVENT_API))).toBeUndefined();
    expect(client(find(rendered.default, 'Deployment', CONSUMER))).toBeUndefined();
  });

  test('the monitoring values let Prometheus in from the monitoring namespace', () => {
    const from = find(rendered.monitoring, 'NetworkPolicy', EVENT_API).spec.ingress[0].from;
    expect(from).toContainEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    });
  });
});

describe('secrets', () => {
  test('the chart generates the internal API token and keeps an existing one (lookup)', () => {
    const secret = find(rendered.default, 'Secret', `${RELEASE}-secrets`);
    const token = Buffer.from(secret.data['internal-api-token'], 'base64').toString();
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    expect(Buffer.from(secret.data['ticket-signing-secret'], 'base64').toString()).toMatch(/^[A-Za-z0-9]{64}$/);
    const template = readFileSync(path.join(CHART, 'templates', 'secret.yaml'), 'utf8');
    expect(template).toMatch(/lookup "v1" "Secret" \.Release\.Namespace \$name/);
    expect(template).toMatch(/get \$data "internal-api-token" \| default \(randAlphaNum 48/);
  });

  test('existingSecret: no Secret is rendered and every process reads the given one', () => {
    const objs = render({ set: ['secrets.existingSecret=ticketing-prod-secrets'] });
    expect(objs.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const name of [EVENT_API, BOOKING_API]) {
      expect(envOf(container(find(objs, 'Deployment', name))).INTERNAL_API_TOKEN.valueFrom.secretKeyRef).toEqual({
        name: 'ticketing-prod-secrets',
        key: 'internal-api-token',
      });
    }
    expect(envOf(container(find(objs, 'CronJob', EXPIRY))).TICKET_SIGNING_SECRET.valueFrom.secretKeyRef.name).toBe('ticketing-prod-secrets');
  });
});

describe('identity', () => {
  const WORKLOADS: Array<[string, string]> = [
    ['Deployment', EVENT_API],
    ['Deployment', CONSUMER],
    ['Job', EVENT_MIGRATE],
    ['Deployment', BOOKING_API],
    ['CronJob', EXPIRY],
    ['Job', BOOKING_MIGRATE],
  ];
  const SECRET_KEYS = {
    AUTH_JWT_SECRET: 'auth-jwt-secret',
    AUTH_JWKS_URL: 'auth-jwks-url',
    AUTH_JWT_ISSUER: 'auth-jwt-issuer',
    AUTH_JWT_AUDIENCE: 'auth-jwt-audience',
    INTERNAL_API_TOKEN: 'internal-api-token',
  };

  test('production values: every process runs jwt identity with keys, issuer, audience and internal token from the existing Secret', () => {
    for (const [kind, name] of WORKLOADS) {
      const env = envOf(container(find(rendered.production, kind, name)));
      expect({ name, mode: env.AUTH_MODE.value, skew: env.AUTH_CLOCK_SKEW_SECONDS.value, tokenCache: env.AUTH_TOKEN_CACHE_SECONDS.value }).toEqual({
        name,
        mode: 'jwt',
        skew: '30',
        tokenCache: '60',
      });
      for (const [variable, key] of Object.entries(SECRET_KEYS)) {
        expect({ name, variable, ref: env[variable].valueFrom.secretKeyRef }).toEqual({
          name,
          variable,
          ref: expect.objectContaining({ name: 'ticketing-app-secrets', key }),
        });
      }
    }
    expect(rendered.production.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  test('default values: the chart-made Secret is a hook ahead of the migrations and holds a generated 64-character HS256 secret', () => {
    const secret = find(rendered.default, 'Secret', `${RELEASE}-secrets`);
    expect(secret.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const weight = Number(secret.metadata.annotations['helm.sh/hook-weight']);
    for (const name of [EVENT_MIGRATE, BOOKING_MIGRATE]) {
      expect(weight).toBeLessThan(Number(find(rendered.default, 'Job', name).metadata.annotations['helm.sh/hook-weight']));
    }
    expect(Buffer.from(secret.data['auth-jwt-secret'], 'base64').toString()).toMatch(/^[A-Za-z0-9]{64}$/);
    expect(secret.data['auth-jwks-url']).toBeUndefined();
  });

  test('an identity provider named in values goes into the chart-made Secret instead of a generated secret', () => {
    const objs = render({
      set: [
        'auth.jwksUrl=https://idp.example/realms/ticketing/protocol/openid-connect/certs',
        'auth.issuer=https://idp.example/realms/ticketing',
        'auth.audience=ticketing-api',
      ],
    });
    const data = find(objs, 'Secret', `${RELEASE}-secrets`).data;
    const decoded = (key: string) => Buffer.from(data[key], 'base64').toString();
    expect(decoded('auth-jwks-url')).toBe('https://idp.example/realms/ticketing/protocol/openid-connect/certs');
    expect(decoded('auth-jwt-issuer')).toBe('https://idp.example/realms/ticketing');
    expect(decoded('auth-jwt-audience')).toBe('ticketing-api');
    expect(data['auth-jwt-secret']).toBeUndefined();
  });

  test('production refuses header identity at install time, and identity values beside an existing Secret', () => {
    expect(helm(['template', RELEASE, CHART, '--set', 'auth.mode=header']).status).not.toBe(0);
    expect(helm(['template', RELEASE, CHART, '--set', 'config.nodeEnv=development', '--set', 'auth.mode=header']).status).toBe(0);
    const both = helm(['template', RELEASE, CHART, '--set', 'secrets.existingSecret=s', '--set', 'auth.issuer=https://idp']);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toMatch(/existingSecret/);
  });
});

describe('monitoring objects', () => {
  test('ServiceMonitor carries the configurable labels and scrapes both APIs and the consumer', () => {
    const sm = find(rendered.monitoring, 'ServiceMonitor', RELEASE);
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path])).toEqual([
      ['http', '/metrics'],
      ['metrics', '/metrics'],
    ]);
    expect(sm.spec.endpoints.every((e: { honorLabels: boolean }) => e.honorLabels)).toBe(true);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: [NAMESPACE] });
    const components = sm.spec.selector.matchExpressions[0].values;
    const selected = rendered.monitoring.filter(
      (o) => o.kind === 'Service' && components.includes(o.metadata.labels?.['app.kubernetes.io/component']),
    );
    expect(selected.map((s) => s.metadata.name).sort()).toEqual([BOOKING_API, EVENT_API, `${CONSUMER}-metrics`].sort());
    const custom = render({ set: ['serviceMonitor.enabled=true', 'serviceMonitor.labels.team=box-office'] });
    expect(find(custom, 'ServiceMonitor', RELEASE).metadata.labels.team).toBe('box-office');
  });

  test('PrometheusRule alerts on the services metrics, scoped to the release namespace', () => {
    const rule = find(rendered.monitoring, 'PrometheusRule', RELEASE);
    const rules = rule.spec.groups.flatMap((g: { rules: unknown[] }) => g.rules) as { alert: string; expr: string; annotations: Record<string, string> }[];
    const exprs = rules.map((r) => r.expr).join('\n');
    for (const metric of ['http_request_duration_seconds', 'outbox_oldest_age_seconds', 'messages_dead_lettered_total', 'consumer_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'booking_lock_acquisitions_total']) {
      expect(exprs).toContain(metric);
    }
    for (const r of rules) expect(r.expr).toContain(`namespace="${NAMESPACE}"`);
    // Prometheus templating survives Helm templating.
    expect(rules.find((r) => r.alert === 'TicketingHighErrorRate')?.annotations.summary).toContain('{{ $labels.service }}');
  });

  test('dashboard ConfigMap has the grafana_dashboard label and the JSON file, made this release’s', () => {
    const cm = find(rendered.default, 'ConfigMap', `${RELEASE}-dashboard`);
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    const file = JSON.parse(readFileSync(path.join(CHART, 'dashboards', 'ticketing.json'), 'utf8'));
    const dashboard = JSON.parse(cm.data['ticketing.json']);
    // Same panels; uid, title and namespace selectors per release (test/observability/dashboard-and-alerts.test.ts).
    expect(dashboard.panels.map((panel: { id: number; title: string }) => [panel.id, panel.title])).toEqual(
      file.panels.map((panel: { id: number; title: string }) => [panel.id, panel.title]),
    );
    expect(dashboard.uid).toMatch(/^ticketing-[0-9a-f]{12}$/);
    const exprs = JSON.stringify(dashboard.panels);
    for (const metric of [
      'http_request_duration_seconds_bucket',
      'booking_reservation_duration_seconds',
      'booking_confirm_duration_seconds',
      'booking_lock_acquisitions_total',
      'booking_lock_acquire_duration_seconds',
      'outbox_backlog_rows',
      'outbox_oldest_age_seconds',
      'messages_consumed_total',
      'messages_dead_lettered_total',
      'consumer_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(exprs).toContain(metric);
    }
  });
});

describe('values.schema.json', () => {
  test.each([
    [['eventService.api.replicaCout=2'], /replicaCout/],
    [['serviceMonitr.enabled=true'], /serviceMonitr/],
    [['bookingService.expiryJob.schedul=* * * * *'], /schedul/],
  ])('rejects the unknown key in %j', (set, message) => {
    const r = helm(['template', RELEASE, CHART, ...set.flatMap((s) => ['--set', s])]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/additional propert/i);
    expect(r.stderr).toMatch(message);
  });

  test.each([
    ['eventService.api.port=http', /port/],
    ['networkPolicy.enabled=maybe', /enabled/],
    ['bookingService.api.paymentSuccessRate=2', /paymentSuccessRate/],
    ['config.logLevel=loud', /logLevel/],
  ])('rejects the wrong value %s', (set, message) => {
    const r = helm(['template', RELEASE, CHART, '--set', set]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  test.each(['INFO', 'Debug', 'WARNING', 'warn'])('when config.logLevel is %s (any case, as the services accept), then it renders', (level) => {
    const r = helm(['template', RELEASE, CHART, '--set', `config.logLevel=${level}`]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('NOTES.txt and helm test', () => {
  test('NOTES print the port-forward commands for 8000 and 8001', () => {
    const r = helm(['install', RELEASE, CHART, '--dry-run=client', '--namespace', NAMESPACE]);
    expect(r.status).toBe(0);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl --namespace ${NAMESPACE} port-forward svc/${EVENT_API} 8000:8000`);
    expect(notes).toContain(`kubectl --namespace ${NAMESPACE} port-forward svc/${BOOKING_API} 8001:8001`);
    expect(notes).toContain('http://localhost:8000/docs');
    expect(notes).toContain('http://localhost:8001/docs');
  });

  test('the test hook pod fetches /health of both Services', () => {
    const pod = find(rendered.default, 'Pod', `${RELEASE}-test-health`);
    expect(pod.metadata.annotations['helm.sh/hook']).toBe('test');
    const c = container(pod);
    const script = c.command.join(' ');
    expect(script).toMatch(/wget/);
    expect(script).toContain('$EVENT_URL/health');
    expect(script).toContain('$BOOKING_URL/health');
    expect(envOf(c).EVENT_URL.value).toBe(`http://${EVENT_API}:8000`);
    expect(envOf(c).BOOKING_URL.value).toBe(`http://${BOOKING_API}:8001`);
    expect(pod.spec.restartPolicy).toBe('Never');
  });
});

describe('web app', () => {
  const WEB_APP = `${RELEASE}-web-app`;

  test('its Deployment runs the web server on 8080 with /health probes and the URLs of both API Services', () => {
    for (const set of Object.values(rendered)) {
      const deployment = find(set, 'Deployment', WEB_APP);
      const c = container(deployment);
      expect(c.command).toEqual(['node', 'services/web-app/dist/server/main.js']);
      expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(probe.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(envOf(c).EVENT_API_URL.value).toBe(`http://${EVENT_API}:8000`);
      expect(envOf(c).BOOKING_API_URL.value).toBe(`http://${BOOKING_API}:8001`);
      // It holds no secrets: no Secret or ConfigMap reaches it.
      expect(c.envFrom).toBeUndefined();
      expect(JSON.stringify(c.env)).not.toMatch(/secretKeyRef/);
      expect(deployment.spec.template.metadata.labels['ticketing.io/event-api-client']).toBe('true');
    }
  });

  test('its Service exposes 8080 to the web app pods and skaffold forwards it to localhost:8080', () => {
    const svc = find(rendered.default, 'Service', WEB_APP);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }]);
    expect(find(rendered.default, 'Deployment', WEB_APP).spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    const skaffold = readFileSync(path.join(CHART, '..', '..', 'skaffold.yaml'), 'utf8');
    expect(skaffold).toMatch(/resourceName: ticketing-web-app\n\s+port: 8080\n\s+localPort: 8080/);
    expect(skaffold).toContain('dockerfile: docker/web-app.Dockerfile');
    expect(readFileSync(path.join(CHART, '..', '..', 'docker/web-app.Dockerfile'), 'utf8')).toMatch(/^USER 1000:1000$/m);
  });

  test('webApp.enabled=false renders no web app objects; NOTES print its port-forward otherwise', () => {
    expect(render({ set: ['webApp.enabled=false'] }).some((o) => o.metadata.name === WEB_APP)).toBe(false);
    const r = helm(['install', RELEASE, CHART, '--dry-run=client', '--namespace', NAMESPACE]);
    expect(r.stdout.slice(r.stdout.indexOf('NOTES:'))).toContain(`port-forward svc/${WEB_APP} 8080:8080`);
  });
});
