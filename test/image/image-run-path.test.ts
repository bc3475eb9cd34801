/**
 * Issue 4, "Verified here": the image's run path, proven without Docker.
 *
 * For each image of skaffold.yaml, its Dockerfile is replayed into a folder under the OS temp dir (see
 * ./dockerfile.ts): the build stage compiles with `tsc -b`, the prod-deps stage runs the Dockerfile's own
 * `npm ci --omit=dev …` in a clean folder, and the runtime stage copies only what its COPY lines name.
 * Then every process the chart starts from that image (read from `helm template`, with the environment each
 * container gets) runs from that folder against the local PostgreSQL, Redis and RabbitMQ: the migration
 * Jobs and their wait-for-postgres init container, the Deployments until their probes answer, the CronJob;
 * finally SIGTERM must stop every long-running process with exit code 0.
 *
 * Two things differ from a cluster, on purpose: HOST is 127.0.0.1 instead of 0.0.0.0, and the booking
 * service's EVENT_SERVICE_URL points at the event API started here instead of its Service DNS name. The
 * processes use the production RabbitMQ names (they read only the environment); nothing is published.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, chmodSync, lstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT, render } from '../charts/helm-tools';
import { POSTGRES_URL, RABBITMQ_URL, REDIS_URL, testDatabaseName } from '../support/infra';
import { createBrokerVhost, deleteBrokerVhost } from '../support/rabbitmq-users';
import { dropDatabase } from '../support/databases';
import { assembleImage, parseDockerfile, productionInstallFlags, type AssembledImage } from './dockerfile';
import {
  chartWorkloads,
  freePort,
  runningProcesses,
  runToCompletion,
  startImageProcess,
  terminate,
  waitForOk,
  type ChartContainer,
  type ChartWorkload,
  type ImageProcess,
} from './workloads';

/** The Node major versions CI runs the tests on (the test job's matrix). */
function ciNodeMatrix(): number[] {
  const ci = parseYaml(readFileSync(path.join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8'));
  return (ci.jobs.test.strategy.matrix.node as Array<string | number>).map(Number);
}

// npm ci of the production dependencies (twice) dominates; the steps have their own bounded waits.
jest.setTimeout(10 * 60_000);

/** In start order: the booking service calls the event API. */
const SERVICES = ['event-service', 'booking-service'] as const;
type Service = (typeof SERVICES)[number];
const DATABASES: Record<Service, string> = {
  'event-service': testDatabaseName('image_event_service'),
  'booking-service': testDatabaseName('image_booking_service'),
};
/** Build and test tooling that must never reach an image. */
const DEV_TOOLING = ['typescript', 'jest', 'eslint', 'ts-node', 'typescript-eslint', 'ts-jest'];
const DEV_TOOLING_SCOPES = ['@swc/', '@jest/', '@eslint/', '@typescript-eslint/'];

const postgres = new URL(POSTGRES_URL);
const rabbitmq = new URL(RABBITMQ_URL);
/**
 * The services take no queue namespace from their environment, so the images' processes use the real exchange
 * and queue names: a virtual host of their own keeps their consumer off an `npm start` or a bench running here.
 */
const VHOST = testDatabaseName('ticketing_image_test');
const redis = new URL(REDIS_URL);

let workDir: string;
let workloads: ChartWorkload[];
let dockerfiles: Record<Service, string>;
let terminationGraceSeconds: Record<string, number>;
const images = new Map<Service, AssembledImage>();
const longRunning: { workload: ChartWorkload; handle: ImageProcess }[] = [];
let eventApiUrl: string | undefined;

/** The chart's images, mapped to their Dockerfiles by skaffold.yaml (as `skaffold dev` builds them). */
function skaffoldDockerfiles(): Record<Service, string> {
  const config = parseYaml(readFileSync(path.join(ROOT, 'skaffold.yaml'), 'utf8')) as {
    build: { artifacts: { image: string; context: string; docker: { dockerfile: string } }[] };
  };
  const byService = {} as Record<Service, string>;
  for (const artifact of config.build.artifacts) {
    // The web app's image (no database, no jobs) has its own replay: test/image/web-app-image.test.ts.
    if (artifact.image === 'ticketing-web-app') continue;
    const service = SERVICES.find((candidate) => artifact.image === `ticketing-${candidate}`);
    if (!service) throw new Error(`skaffold builds ${artifact.image}, which test/image does not know`);
    expect(artifact.context).toBe('.');
    byService[service] = path.join(ROOT, artifact.docker.dockerfile);
  }
  expect(Object.keys(byService).sort()).toEqual([...SERVICES].sort());
  return byService;
}

const imageOf = (service: Service) => `ticketing-${service}`;
const workloadsOf = (service: Service, kind: string) =>
  workloads
    .filter((workload) => workload.image.split(':')[0] === imageOf(service) && workload.kind === kind)
    .sort((a, b) => a.hookWeight - b.hookWeight);

/** The container's environment from the chart, with the two local substitutions described at the top. */
function processEnv(service: Service, container: ChartContainer): Record<string, string> {
  const env = { ...container.env, HOST: '127.0.0.1' };
  if (service === 'booking-service' && 'EVENT_SERVICE_URL' in env) {
    if (!eventApiUrl) throw new Error('the event API must run before the booking service');
    env.EVENT_SERVICE_URL = eventApiUrl;
  }
  return env;
}

function image(service: Service): AssembledImage {
  const assembled = images.get(service);
  if (!assembled) throw new Error(`${service}: the image folder was not assembled (see the first failure)`);
  return assembled;
}

/** Runs a one-shot container command and expects exit code 0. */
async function runJobContainer(service: Service, container: ChartContainer) {
  const handle = startImageProcess(container.label, image(service), container.command, processEnv(service, container));
  const code = await runToCompletion(handle);
  if (code !== 0) throw new Error(`${container.label} exited ${code}:\n${handle.output()}`);
}

/** The `main` of a workspace's package.json in the image. */
function mainOf(assembled: AssembledImage, workspaceDir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(assembled.appDir, 'services', workspaceDir, 'package.json'), 'utf8')) as { main: string };
  return path.posix.normalize(manifest.main);
}

/** Package names anywhere in a node_modules tree (nested node_modules included). */
function installedPackages(modules: string): string[] {
  const names: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith('.')) continue;
      const entries = entry.startsWith('@') ? readdirSync(path.join(dir, entry)).map((scoped) => `${entry}/${scoped}`) : [entry];
      for (const name of entries) {
        names.push(name);
        const nested = path.join(dir, name, 'node_modules');
        if (!lstatSync(path.join(dir, name)).isSymbolicLink() && existsSync(nested)) visit(nested);
      }
    }
  };
  visit(modules);
  return names;
}

/** Files of the image outside node_modules, relative to its WORKDIR. */
function applicationFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix + entry.name;
    if (relative === 'node_modules') return [];
    return entry.isDirectory() ? applicationFiles(path.join(dir, entry.name), `${relative}/`) : [relative];
  });
}

beforeAll(async () => {
  await createBrokerVhost(VHOST, decodeURIComponent(rabbitmq.username));
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ticketing-image-'));
  chmodSync(workDir, 0o755); // the processes run as the image's USER and must reach /app
  dockerfiles = skaffoldDockerfiles();

  const [eventApiPort, consumerMetricsPort, bookingApiPort] = [await freePort(), await freePort(), await freePort()];
  const objects = render({
    set: [
      `config.seedDemoData=true`,
      `database.host=${postgres.hostname}`,
      `database.port=${postgres.port || 5432}`,
      `database.username=${decodeURIComponent(postgres.username)}`,
      `database.eventDatabase=${DATABASES['event-service']}`,
      `database.bookingDatabase=${DATABASES['booking-service']}`,
      `rabbitmq.host=${rabbitmq.hostname}`,
      `rabbitmq.port=${rabbitmq.port || 5672}`,
      `rabbitmq.vhost=${VHOST}`,
      `rabbitmq.username=${decodeURIComponent(rabbitmq.username)}`,
      // The test broker has no per-service users (test/security/broker-least-privilege.test.ts makes its own).
      'rabbitmq.booking.username=',
      'rabbitmq.eventConsumer.username=',
      `redis.host=${redis.hostname}`,
      `redis.port=${redis.port || 6379}`,
      ...(redis.password ? [] : ['redis.passwordSecret.name=']),
      `eventService.api.port=${eventApiPort}`,
      `eventService.consumer.metricsPort=${consumerMetricsPort}`,
      `bookingService.api.port=${bookingApiPort}`,
    ],
  });
  workloads = chartWorkloads(objects, {
    // Secrets of the PostgreSQL, RabbitMQ and Redis releases (values.yaml names them).
    'postgresql/password': decodeURIComponent(postgres.password) || 'unused-with-trust-auth',
    'rabbitmq/rabbitmq-password': decodeURIComponent(rabbitmq.password),
    'redis/redis-password': decodeURIComponent(redis.password),
  });
  terminationGraceSeconds = Object.fromEntries(
    objects.filter((object) => object.kind === 'Deployment').map((object) => [object.metadata.name, object.spec.template.spec.terminationGracePeriodSeconds ?? 30]),
  );
  await Promise.all(Object.values(DATABASES).map(dropDatabase));
});

afterAll(async () => {
  for (const handle of runningProcesses) handle.child.kill('SIGKILL');
  await Promise.all([...runningProcesses].map((handle) => handle.exited));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  await Promise.all([...Object.values(DATABASES).map(dropDatabase), deleteBrokerVhost(VHOST)]);
});

test('the chart runs every process of our images as `node <script>` in exec form', () => {
  const ours = workloads.filter((workload) => SERVICES.some((service) => workload.image.split(':')[0] === imageOf(service)));
  expect(ours.map((workload) => `${workload.kind}/${workload.name}`).sort()).toEqual(
    expect.arrayContaining([expect.stringMatching(/^Deployment\//), expect.stringMatching(/^Job\//), expect.stringMatching(/^CronJob\//)]),
  );
  for (const workload of ours) {
    for (const container of [...workload.initContainers, ...workload.containers]) {
      expect({ container: container.label, program: container.command[0] }).toEqual({ container: container.label, program: 'node' });
    }
  }
});

describe.each(SERVICES)('%s image', (service) => {
  const workspace = `@ticketing/${service}`;

  test('its Dockerfile installs production dependencies only, for the platform and this service', () => {
    const flags = productionInstallFlags(parseDockerfile(readFileSync(dockerfiles[service], 'utf8')));
    expect(flags).toEqual(expect.arrayContaining(['--omit=dev', '--ignore-scripts', '--workspace=@ticketing/platform', `--workspace=${workspace}`]));
    expect(flags.filter((flag) => flag.startsWith('--workspace='))).toHaveLength(2);
  });

  test('is assembled as the Dockerfile builds it: compiled JS, manifests and production node_modules only', () => {
    const stageDir = path.join(workDir, service);
    const assembled = assembleImage({ context: ROOT, dockerfilePath: dockerfiles[service], workDir: stageDir, extraInstallFlags: ['--prefer-offline'] });
    images.set(service, assembled);

    // The image runs the newest Node line CI tests (its matrix), and these tests run on one of those lines,
    // as a numeric non-root user.
    expect(assembled.base).toMatch(/^node:\d+/);
    const ciNodeLines = ciNodeMatrix();
    expect(Number(assembled.base.split(':')[1].split('.')[0])).toBe(Math.max(...ciNodeLines));
    expect(ciNodeLines).toContain(Number(process.versions.node.split('.')[0]));
    expect(assembled.user?.uid).toBeGreaterThan(0);
    expect(assembled.env.NODE_ENV).toBe('production');
    // The images bound the young generation (peak RSS under load); the bench runs the processes with the same options.
    expect(assembled.env.NODE_OPTIONS).toBe('--max-semi-space-size=16 --max-old-space-size=128');

    // Exactly what the runtime stage's COPY lines name (dist, manifests), nothing of the sources.
    const files = applicationFiles(assembled.appDir);
    const allowed = new RegExp(`^(package\\.json|services/(platform|${service})/(package\\.json|dist/.+\\.(js|js\\.map|d\\.ts|d\\.ts\\.map|json)))$`);
    expect(files.filter((file) => !allowed.test(file))).toEqual([]);
    for (const workspaceDir of ['platform', service]) {
      expect(files).toContain(`services/${workspaceDir}/package.json`);
      expect(files).toContain(path.posix.join('services', workspaceDir, mainOf(assembled, workspaceDir)));
    }

    // The default CMD is the chart's API command, and every script the chart runs exists in the image.
    const [api] = workloadsOf(service, 'Deployment').filter((workload) => workload.containers[0].ports.http);
    expect(assembled.cmd).toEqual(api.containers[0].command);
    const scripts = workloads
      .filter((workload) => workload.image.split(':')[0] === imageOf(service))
      .flatMap((workload) => workload.containers.map((container) => container.command[1]));
    for (const script of scripts) expect(files).toContain(script);
  });

  test('holds no dev tooling, and its workspace links resolve inside the image', () => {
    const modules = path.join(image(service).appDir, 'node_modules');
    const packages = installedPackages(modules);
    expect(packages.length).toBeGreaterThan(50);
    expect(packages.filter((name) => DEV_TOOLING.includes(name) || DEV_TOOLING_SCOPES.some((scope) => name.startsWith(scope)))).toEqual([]);
    for (const link of ['platform', service]) {
      expect(existsSync(path.join(modules, '@ticketing', link, mainOf(image(service), link)))).toBe(true);
    }
  });

  test('its migration Job (with the wait-for-postgres init container and the demo seed) exits 0', async () => {
    const jobs = workloadsOf(service, 'Job');
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      expect(job.initContainers.length).toBeGreaterThan(0);
      for (const container of [...job.initContainers, ...job.containers]) await runJobContainer(service, container);
    }
    expect(jobs.flatMap((job) => job.containers.map((container) => container.env.SEED_DEMO_DATA))).toContain('true');
  });

  test('its Deployments start and answer their probes (and the APIs serve /docs)', async () => {
    const deployments = workloadsOf(service, 'Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const workload of deployments) {
      const [container] = workload.containers;
      expect(container.probes.map((probe) => probe.path)).toEqual(expect.arrayContaining(['/health', '/ready']));
      const handle = startImageProcess(container.label, image(service), container.command, processEnv(service, container));
      longRunning.push({ workload, handle });
      for (const probe of container.probes) await waitForOk(handle, `http://127.0.0.1:${probe.port}${probe.path}`);

      if (container.ports.http) {
        const base = `http://127.0.0.1:${container.ports.http}`;
        if (service === 'event-service') eventApiUrl = base;
        const docs = await fetch(`${base}/docs`);
        const html = await docs.text();
        expect({ status: docs.status, type: docs.headers.get('content-type') }).toEqual({ status: 200, type: expect.stringContaining('text/html') });
        const assets = [...html.matchAll(/\/docs\/assets\/[\w.-]+/g)].map((match) => match[0]);
        expect(assets.length).toBeGreaterThan(0);
        for (const asset of [...new Set(assets), '/openapi.json']) {
          const response = await fetch(base + asset);
          await response.arrayBuffer();
          expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
        }
      }
    }
  });

  test('its CronJobs run to exit 0', async () => {
    for (const workload of workloadsOf(service, 'CronJob')) {
      for (const container of [...workload.initContainers, ...workload.containers]) await runJobContainer(service, container);
    }
  });
});

test('the chart uses the consumer and the expiry job of the images (both ran above)', () => {
  const scripts = workloads.flatMap((workload) => workload.containers.map((container) => `${workload.kind} ${container.command[1]}`));
  expect(scripts).toEqual(
    expect.arrayContaining([
      'Deployment services/event-service/dist/entry-points/api-main.js',
      'Deployment services/event-service/dist/entry-points/consumer-main.js',
      'Job services/event-service/dist/entry-points/migrate-main.js',
      'Deployment services/booking-service/dist/entry-points/api-main.js',
      'CronJob services/booking-service/dist/entry-points/expire-reservations-main.js',
      'Job services/booking-service/dist/entry-points/migrate-main.js',
    ]),
  );
});

test('SIGTERM stops every long-running process with exit code 0 (signals reach node)', async () => {
  expect(longRunning.length).toBeGreaterThanOrEqual(3);
  // Reverse start order: the booking API before the event API it calls.
  for (const { workload, handle } of [...longRunning].reverse()) {
    const outcome = await terminate(handle, terminationGraceSeconds[workload.name] * 1000);
    if (outcome !== 0) throw new Error(`${handle.label} ended with ${outcome} after SIGTERM:\n${handle.output()}`);
  }
});
