/**
 * skaffold.yaml, the k8s/ values of the Bitnami and monitoring releases, the Dockerfiles and the
 * GitHub workflow: parsed and checked against each other and against the chart.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CHART, ROOT, find, parseManifests, render, schemaErrors, unknownFieldErrors } from './helm-tools';

type Any = any;
const readYaml = (file: string): Any => parse(readFileSync(path.join(ROOT, file), 'utf8'));
const skaffold = readYaml('skaffold.yaml');

/** The JSON-patch subset skaffold profiles use here (add/replace/remove), applied in order. */
function applyPatches(doc: Any, patches: { op: string; path: string; value?: unknown }[]): Any {
  const out = structuredClone(doc);
  for (const p of patches) {
    const parts = p.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let target = out;
    for (const part of parts) {
      target = Array.isArray(target) ? target[Number(part)] : target[part];
      if (target === undefined) throw new Error(`patch path ${p.path} does not exist`);
    }
    if (Array.isArray(target)) {
      const index = last === '-' ? target.length : Number(last);
      if (p.op === 'add') target.splice(index, 0, p.value);
      else if (p.op === 'replace') target[index] = p.value;
      else if (p.op === 'remove') target.splice(index, 1);
      else throw new Error(`unsupported op ${p.op}`);
    } else if (p.op === 'remove') delete target[last];
    else target[last] = p.value;
  }
  return out;
}

const profile = (name: string): Any => {
  const found = skaffold.profiles.find((p: { name: string }) => p.name === name);
  if (!found) throw new Error(`profile ${name} missing`);
  return found;
};
const release = (cfg: Any, name: string): Any => cfg.deploy.helm.releases.find((r: { name: string }) => r.name === name);
/** Skaffold's rule: `/`, `-`, `.` and `:` of an artifact name become `_` in template names. */
const sanitize = (image: string) => image.replace(/[/\-.:]/g, '_');

describe('skaffold.yaml', () => {
  test('uses the current v4beta schema', () => {
    expect(skaffold.apiVersion).toBe('skaffold/v4beta14');
    expect(skaffold.kind).toBe('Config');
  });

  test('builds the three images (event, booking, web app) from docker/ with the repository root as context', () => {
    expect(skaffold.build.artifacts).toEqual([
      { image: 'ticketing-event-service', context: '.', docker: { dockerfile: 'docker/event-service.Dockerfile' } },
      { image: 'ticketing-booking-service', context: '.', docker: { dockerfile: 'docker/booking-service.Dockerfile' } },
      { image: 'ticketing-web-app', context: '.', docker: { dockerfile: 'docker/web-app.Dockerfile' } },
    ]);
    for (const a of skaffold.build.artifacts) expect(existsSync(path.join(ROOT, a.docker.dockerfile))).toBe(true);
  });

  test('installs the pinned Bitnami charts from their OCI registry with values from k8s/', () => {
    const expected = { postgresql: '16.7.27', redis: '22.0.7', rabbitmq: '16.0.14' };
    for (const [name, version] of Object.entries(expected)) {
      const r = release(skaffold, name);
      expect(r).toMatchObject({ remoteChart: `oci://registry-1.docker.io/bitnamicharts/${name}`, version, wait: true });
      expect(r.valuesFiles).toEqual([`k8s/values/${name}.yaml`]);
      expect(existsSync(path.join(ROOT, r.valuesFiles[0]))).toBe(true);
    }
  });

  test('deploys the chart after the infrastructure, with the built images wired in', () => {
    const names = skaffold.deploy.helm.releases.map((r: { name: string }) => r.name);
    expect(names).toEqual(['postgresql', 'redis', 'rabbitmq', 'ticketing']);
    expect(skaffold.deploy.helm.concurrency).toBe(1);
    const chart = release(skaffold, 'ticketing');
    expect(chart.chartPath).toBe('charts/ticketing');
    expect(chart.dependsOn).toEqual(['postgresql', 'redis', 'rabbitmq']);
    for (const f of chart.valuesFiles) expect(existsSync(path.join(ROOT, f))).toBe(true);
    const [eventImage, bookingImage, webImage] = skaffold.build.artifacts.map((a: { image: string }) => sanitize(a.image));
    expect(chart.setValueTemplates).toEqual({
      'eventService.image.repository': `{{.IMAGE_REPO_${eventImage}}}`,
      'eventService.image.tag': `{{.IMAGE_TAG_${eventImage}}}@{{.IMAGE_DIGEST_${eventImage}}}`,
      'bookingService.image.repository': `{{.IMAGE_REPO_${bookingImage}}}`,
      'bookingService.image.tag': `{{.IMAGE_TAG_${bookingImage}}}@{{.IMAGE_DIGEST_${bookingImage}}}`,
      'webApp.image.repository': `{{.IMAGE_REPO_${webImage}}}`,
      'webApp.image.tag': `{{.IMAGE_TAG_${webImage}}}@{{.IMAGE_DIGEST_${webImage}}}`,
    });
    expect(eventImage).toBe('ticketing_event_service');
    // The keys skaffold sets exist in the chart's values (the schema would reject them otherwise).
    const values = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));
    for (const key of [...Object.keys(chart.setValueTemplates), ...Object.keys(chart.setValues)]) {
      const value = key.split('.').reduce((o: Any, k) => (o === undefined ? undefined : o[k]), values);
      expect({ key, defined: value !== undefined }).toEqual({ key, defined: true });
    }
  });

  test('port-forwards the chart Services to localhost 8000, 8001 and the web app to 8080', () => {
    expect(skaffold.portForward).toEqual([
      { resourceType: 'service', resourceName: 'ticketing-event-api', port: 8000, localPort: 8000 },
      { resourceType: 'service', resourceName: 'ticketing-booking-api', port: 8001, localPort: 8001 },
      { resourceType: 'service', resourceName: 'ticketing-web-app', port: 8080, localPort: 8080 },
    ]);
    const objs = render({ valuesFiles: release(skaffold, 'ticketing').valuesFiles });
    for (const pf of skaffold.portForward) {
      const svc = find(objs, 'Service', pf.resourceName);
      expect(svc.spec.ports.map((p: { port: number }) => p.port)).toContain(pf.port);
    }
  });

  test('kind and minikube profiles never push; they activate on their kube contexts', () => {
    expect(profile('kind').build.local.push).toBe(false);
    expect(profile('kind').activation).toEqual([{ kubeContext: 'kind-.*' }]);
    expect(profile('minikube').build.local.push).toBe(false);
    expect(profile('minikube').activation).toEqual([{ kubeContext: 'minikube' }]);
    expect(skaffold.build.local.push).toBeUndefined();
  });

  test('monitoring profile: kube-prometheus-stack first, chart monitoring values, Grafana forwarded', () => {
    const effective = applyPatches(skaffold, profile('monitoring').patches);
    const releases = effective.deploy.helm.releases;
    expect(releases.map((r: { name: string }) => r.name)).toEqual(['kube-prometheus-stack', 'postgresql', 'redis', 'rabbitmq', 'ticketing']);
    expect(releases[0]).toMatchObject({
      repo: 'https://prometheus-community.github.io/helm-charts',
      remoteChart: 'kube-prometheus-stack',
      namespace: 'monitoring',
      createNamespace: true,
      valuesFiles: ['k8s/values/monitoring.yaml'],
    });
    const chart = release(effective, 'ticketing');
    expect(chart.valuesFiles).toEqual(['k8s/values/ticketing.yaml', 'k8s/values/ticketing-monitoring.yaml']);
    expect(chart.dependsOn).toContain('kube-prometheus-stack');
    expect(effective.portForward).toContainEqual({
      resourceType: 'service',
      resourceName: 'kube-prometheus-stack-grafana',
      namespace: 'monitoring',
      port: 80,
      localPort: 3000,
    });
    // the base config is untouched
    expect(skaffold.deploy.helm.releases).toHaveLength(4);
  });

  describe('monitoring profile: the trace backend (Jaeger all-in-one)', () => {
    const effective = applyPatches(skaffold, profile('monitoring').patches);
    const manifests = (profile('monitoring').manifests?.rawYaml ?? []) as string[];
    const objects = manifests.flatMap((file) => parseManifests(readFileSync(path.join(ROOT, file), 'utf8')));
    const jaeger = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'jaeger');
    const servicePort = (name: string) => jaeger?.spec.ports.find((p: { name: string }) => p.name === name)?.port;

    test('its manifests are applied by the kubectl deployer next to the Helm releases, and valid against the Kubernetes schemas', () => {
      expect(manifests).toEqual(['k8s/monitoring/jaeger.yaml']);
      expect(effective.deploy.kubectl).toEqual({});
      expect(skaffold.deploy.kubectl).toBeUndefined();
      expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/monitoring', 'Deployment/jaeger', 'Service/jaeger']);
      expect(schemaErrors(objects)).toEqual([]);
      expect(unknownFieldErrors(objects)).toEqual([]);
    });

    test('the Service reaches the Deployment: OTLP/HTTP 4318 and the UI 16686, forwarded to localhost:16686', () => {
      const deployment = objects.find((o) => o.kind === 'Deployment')!;
      expect((deployment.metadata as Any).namespace).toBe('monitoring');
      expect((jaeger!.metadata as Any).namespace).toBe('monitoring');
      expect(deployment.spec.template.metadata.labels).toMatchObject(jaeger!.spec.selector);
      const containerPorts = new Set(deployment.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name));
      for (const port of jaeger!.spec.ports) expect(containerPorts).toContain(port.targetPort);
      expect(servicePort('otlp-http')).toBe(4318);
      expect(effective.portForward).toContainEqual({ resourceType: 'service', resourceName: 'jaeger', namespace: 'monitoring', port: 16686, localPort: 16686 });
    });

    test('under the profile every process exports to it, every trace kept', () => {
      const objs = render({ valuesFiles: release(effective, 'ticketing').valuesFiles });
      const endpoint = `http://${jaeger!.metadata.name}.${(jaeger!.metadata as Any).namespace}:${servicePort('otlp-http')}`;
      for (const service of ['event-service', 'booking-service']) {
        expect(find(objs, 'ConfigMap', `ticketing-${service}`).data).toMatchObject({
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_TRACES_SAMPLER_ARG: '1',
        });
      }
    });

    test('Grafana has it as a data source', () => {
      const mon = readYaml('k8s/values/monitoring.yaml');
      expect(mon.grafana.additionalDataSources).toContainEqual(
        expect.objectContaining({ type: 'jaeger', url: `http://jaeger.monitoring:${servicePort('ui')}` }),
      );
    });
  });
});

describe('k8s/ values', () => {
  const pg = readYaml('k8s/values/postgresql.yaml');
  const redis = readYaml('k8s/values/redis.yaml');
  const mq = readYaml('k8s/values/rabbitmq.yaml');
  const app = readYaml('k8s/values/ticketing.yaml');

  test('Bitnami images come from bitnamilegacy, which the charts accept only with allowInsecureImages', () => {
    for (const [values, image] of [[pg, 'postgresql'], [redis, 'redis'], [mq, 'rabbitmq']] as const) {
      expect(values.global.security.allowInsecureImages).toBe(true);
      expect(values.image).toMatchObject({ registry: 'docker.io', repository: `bitnamilegacy/${image}` });
    }
  });

  test('PostgreSQL gets both service databases, owned by the app user', () => {
    expect(pg.auth).toMatchObject({ username: app.database.username, database: app.database.eventDatabase });
    const sql = Object.values(pg.primary.initdb.scripts).join('\n');
    expect(sql).toContain(`CREATE DATABASE ${app.database.bookingDatabase} OWNER ${app.database.username};`);
    expect(sql).toContain(`ALTER DATABASE ${app.database.eventDatabase} OWNER TO ${app.database.username};`);
  });

  test('Redis is standalone; RabbitMQ a single node', () => {
    expect(redis.architecture).toBe('standalone');
    expect(mq.replicaCount).toBe(1);
  });

  test('the chart reads the Secrets and users the Bitnami releases create', () => {
    // Bitnami naming: the Secret is named after the release; these are its keys.
    expect(app.database.passwordSecret).toEqual({ name: 'postgresql', key: 'password' });
    expect(app.redis.passwordSecret).toEqual({ name: 'redis', key: 'redis-password' });
    expect(app.rabbitmq.passwordSecret).toEqual({ name: 'rabbitmq', key: 'rabbitmq-password' });
    expect(app.rabbitmq.username).toBe(mq.auth.username);
    expect(app.redis.host).toBe('redis-master');
    // The passwords end up inside connection URLs.
    for (const password of [pg.auth.password, redis.auth.password, mq.auth.password]) {
      expect(password).toMatch(/^[A-Za-z0-9._~-]+$/);
    }
  });

  test('kube-prometheus-stack Grafana loads grafana_dashboard ConfigMaps from every namespace', () => {
    const mon = readYaml('k8s/values/monitoring.yaml');
    expect(mon.grafana.sidecar.dashboards).toMatchObject({ enabled: true, label: 'grafana_dashboard', labelValue: '1', searchNamespace: 'ALL' });
    expect(mon.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    const chartMon = readYaml('k8s/values/ticketing-monitoring.yaml');
    expect(chartMon.dashboards.labels).toEqual({ grafana_dashboard: mon.grafana.sidecar.dashboards.labelValue });
    expect(chartMon.serviceMonitor.labels.release).toBe('kube-prometheus-stack');
  });

  test('kind cluster config', () => {
    const kind = readYaml('k8s/kind-config.yaml');
    expect(kind).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'ticketing' });
  });
});

describe('Dockerfiles', () => {
  test.each([
    ['event-service', 'api-main.js', 8000],
    ['booking-service', 'api-main.js', 8001],
  ])('%s: lockfile install, build, production deps only, non-root, node as PID 1', (service, main, port) => {
    const text = readFileSync(path.join(ROOT, 'docker', `${service}.Dockerfile`), 'utf8');
    const stages = text.split(/^FROM /m).slice(1);
    expect(stages).toHaveLength(3);
    for (const s of stages) expect(s).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim AS /);
    // The current LTS line; the code itself still runs on Node 20 (engines, CI matrix).
    expect(text).toMatch(/^ARG NODE_VERSION=24\.\d+\.\d+$/m);
    const [build, prodDeps, runtime] = stages;
    expect(build).toMatch(/RUN npm ci /);
    expect(build).toContain(`npx tsc -b services/${service}`);
    expect(prodDeps).toMatch(/npm ci --omit=dev/);
    expect(prodDeps).toContain(`--workspace=@ticketing/${service}`);
    expect(prodDeps).toContain('--workspace=@ticketing/platform');
    expect(runtime).not.toMatch(/npm (ci|install)/);
    expect(runtime).toMatch(/rm -rf [^\n]*\/usr\/local\/lib\/node_modules\/npm/);
    expect(runtime).toMatch(/^USER 1000:1000$/m);
    expect(runtime).toContain(`EXPOSE ${port}`);
    const cmd = runtime.match(/^CMD (.+)$/m)?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', `services/${service}/dist/entry-points/${main}`]);
    // every package.json `npm ci` checks against the lockfile is copied in before it runs
    for (const ws of readdirSync(path.join(ROOT, 'services'))) {
      if (existsSync(path.join(ROOT, 'services', ws, 'package.json'))) expect(build).toContain(`COPY services/${ws}/package.json`);
    }
  });

  test('.dockerignore keeps local builds and dependencies out of the context', () => {
    const lines = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(lines).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git', '.tools']));
  });
});

describe('GitHub workflow', () => {
  const ci = readYaml('.github/workflows/ci.yml');
  const runs = (job: string) => ci.jobs[job].steps.map((s: { run?: string }) => s.run ?? '').join('\n');
  const uses = (job: string) => ci.jobs[job].steps.map((s: { uses?: string }) => s.uses).filter(Boolean);

  test('has the three jobs, e2e after the others', () => {
    expect(Object.keys(ci.jobs)).toEqual(['test', 'chart', 'e2e']);
    expect(ci.jobs.e2e.needs).toEqual(['test', 'chart']);
  });

  test('test job: lint, type check and the full suite against Postgres, Redis and RabbitMQ', () => {
    const services = ci.jobs.test.services;
    expect(services.postgres.ports).toEqual(['5432:5432']);
    expect(services.redis.ports).toEqual(['6379:6379']);
    expect(services.rabbitmq.ports).toEqual(['5672:5672', '15672:15672']);
    expect(ci.jobs.test.env.TEST_RABBITMQ_MANAGEMENT_URL).toBe(
      `http://${services.rabbitmq.env.RABBITMQ_DEFAULT_USER}:${services.rabbitmq.env.RABBITMQ_DEFAULT_PASS}@127.0.0.1:15672`,
    );
    expect(ci.jobs.test.env.TEST_POSTGRES_URL).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:5432$/);
    expect(ci.jobs.test.env.TEST_REDIS_URL).toBe('redis://127.0.0.1:6379');
    const user = services.rabbitmq.env.RABBITMQ_DEFAULT_USER;
    expect(ci.jobs.test.env.TEST_RABBITMQ_URL).toBe(`amqp://${user}:${services.rabbitmq.env.RABBITMQ_DEFAULT_PASS}@127.0.0.1:5672`);
    const script = runs('test');
    for (const cmd of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test']) expect(script).toContain(cmd);
  });

  test('chart job: helm from the lockfile, lint --strict, template with every value set, schema tests', () => {
    const script = runs('chart');
    expect(script).toContain('node test/charts/tools/install-helm.js');
    expect(script.match(/helm lint --strict/g)).toHaveLength(3);
    expect(script).toContain('-f charts/ticketing/ci/production-values.yaml');
    expect(script).toContain('-f k8s/values/ticketing.yaml -f k8s/values/ticketing-monitoring.yaml');
    expect(script.match(/helm template /g)?.length).toBeGreaterThanOrEqual(3);
    expect(script).toContain('npx jest test/charts');
  });

  test('e2e job: kind, skaffold run, rollout, port-forward, smoke test', () => {
    const kindStep = ci.jobs.e2e.steps.find((s: { uses?: string }) => s.uses?.startsWith('helm/kind-action@'));
    expect(kindStep.with).toEqual({ cluster_name: 'ticketing', config: 'k8s/kind-config.yaml' });
    expect(uses('e2e')).toContain('actions/checkout@v4');
    const script = runs('e2e');
    expect(script).toContain('skaffold run -p kind --kube-context kind-ticketing');
    expect(script).toMatch(/kubectl rollout status "deployment\/\$d"/);
    expect(script).toContain('kubectl port-forward svc/ticketing-event-api 8000:8000');
    expect(script).toContain('kubectl port-forward svc/ticketing-booking-api 8001:8001');
    expect(script).toContain('npm run test:smoke -- --event-url http://localhost:8000 --booking-url http://localhost:8001');
    const [major, minor] = ci.env.SKAFFOLD_VERSION.replace(/^v/, '').split('.').map(Number);
    expect(major * 100 + minor).toBeGreaterThanOrEqual(219); // v4beta14 needs skaffold >= 2.19
  });
  test('when CI tests, then it runs on the oldest Node the code supports and on the images\' Node line', () => {
    const matrix = ci.jobs.test.strategy.matrix.node.map(Number);
    const engines = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).engines.node;
    expect(engines).toBe('>=20.19');
    const imageLine = Number(/^ARG NODE_VERSION=(\d+)\./m.exec(readFileSync(path.join(ROOT, 'docker', 'event-service.Dockerfile'), 'utf8'))![1]);
    expect(matrix).toEqual([20, imageLine]);
    const setup = ci.jobs.test.steps.find((step: { uses?: string }) => step.uses?.startsWith('actions/setup-node@'));
    expect(setup.with['node-version']).toBe('${{ matrix.node }}');
    expect(Number(ci.env.NODE_VERSION)).toBe(imageLine);
  });

  test('when the e2e job builds for kind, then Docker uses the classic image store before the cluster exists (kind#3795)', () => {
    const steps = ci.jobs.e2e.steps as Array<{ name?: string; run?: string; uses?: string }>;
    const storeStep = steps.findIndex((step) => step.run?.includes('"containerd-snapshotter": false'));
    const kindStep = steps.findIndex((step) => step.uses?.startsWith('helm/kind-action@'));
    expect(storeStep).toBeGreaterThanOrEqual(0);
    expect(storeStep).toBeLessThan(kindStep);
    expect(steps[storeStep].run).toContain('systemctl restart docker');
  });
});
