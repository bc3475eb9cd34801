/**
 * `skaffold dev -p kind` on a 2-CPU laptop or runner: the CPU requests of everything it deploys fit two
 * vCPUs with room, and helm's --timeout, the migration hooks' deadlines and the docs agree.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, render, type K8sObject } from './helm-tools';

type Any = any;
const readYaml = (file: string): Any => parse(readFileSync(path.join(ROOT, file), 'utf8'));
const skaffold = readYaml('skaffold.yaml');
const kubernetesDoc = readFileSync(path.join(ROOT, 'docs', 'kubernetes.md'), 'utf8');

/** The node's two vCPUs, and what kind's control plane requests of them (apiserver, etcd, controllers, CoreDNS, kindnet). */
const NODE_MILLICORES = 2000;
const KIND_CONTROL_PLANE_MILLICORES = 950;
/** Left free for what a laptop cluster also runs (skaffold's port-forwards, a helm test pod, a kubectl debug). */
const REQUIRED_ROOM_MILLICORES = 200;

function millicores(quantity: string | number | undefined): number {
  if (quantity === undefined) return 0;
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) : Math.round(Number(text) * 1000);
}

const cpuRequest = (containers: Any[] | undefined) =>
  (containers ?? []).map((c) => millicores(c.resources?.requests?.cpu));

/** A pod's effective request: its containers together, or its largest init container if that is more. */
function podMillicores(spec: Any): number {
  const main = cpuRequest(spec.containers).reduce((a, b) => a + b, 0);
  return Math.max(main, ...cpuRequest(spec.initContainers));
}

/** Requests of the ticketing chart with the dev values, counting each API at its autoscaling maximum. */
function ticketingMillicores(objects: K8sObject[]): Record<string, number> {
  const maxReplicas = new Map(
    objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => [o.spec.scaleTargetRef.name, o.spec.maxReplicas as number]),
  );
  const out: Record<string, number> = {};
  for (const o of objects) {
    if (o.kind === 'Deployment') {
      const replicas = maxReplicas.get(o.metadata.name) ?? o.spec.replicas ?? 1;
      out[`${o.metadata.name} ×${replicas}`] = replicas * podMillicores(o.spec.template.spec);
    } else if (o.kind === 'CronJob') {
      out[o.metadata.name] = podMillicores(o.spec.jobTemplate.spec.template.spec);
    }
  }
  // The migration hooks run one at a time, before the Deployments: the larger one counts.
  const hooks = objects.filter((o) => o.kind === 'Job').map((o) => podMillicores(o.spec.template.spec));
  out['migration hook (one at a time)'] = Math.max(0, ...hooks);
  return out;
}

/** Bitnami releases: their requests come from our values files (a preset would ignore them; it must be off). */
const BITNAMI_REQUESTS: Record<string, (values: Any) => Any> = {
  postgresql: (values) => values.primary,
  rabbitmq: (values) => values,
  redis: (values) => values.master,
};

describe('skaffold dev -p kind on a 2-CPU node', () => {
  test('when every release of the kind profile is deployed, then the CPU requests fit 2 vCPUs with room', () => {
    const budget: Record<string, number> = { 'kind control plane': KIND_CONTROL_PLANE_MILLICORES };
    for (const [name, section] of Object.entries(BITNAMI_REQUESTS)) {
      const release = skaffold.deploy.helm.releases.find((r: { name: string }) => r.name === name);
      const values = section(readYaml(release.valuesFiles[0]));
      expect({ name, preset: values.resourcesPreset }).toEqual({ name, preset: 'none' });
      expect(values.resources?.requests?.cpu).toBeDefined();
      budget[name] = millicores(values.resources.requests.cpu);
    }
    const ticketing = skaffold.deploy.helm.releases.find((r: { name: string }) => r.name === 'ticketing');
    Object.assign(budget, ticketingMillicores(render({ valuesFiles: ticketing.valuesFiles })));

    const total = Object.values(budget).reduce((a, b) => a + b, 0);
    console.log(
      `CPU requests of skaffold dev -p kind (millicores):\n${Object.entries(budget)
        .map(([name, m]) => `  ${name.padEnd(40)} ${m}`)
        .join('\n')}\n  ${'total'.padEnd(40)} ${total} of ${NODE_MILLICORES}, room ${NODE_MILLICORES - total}`,
    );
    expect(total + REQUIRED_ROOM_MILLICORES).toBeLessThanOrEqual(NODE_MILLICORES);
  });

  test('when docs/kubernetes.md is read, then it says what a node needs', () => {
    expect(kubernetesDoc).toMatch(/### What a node needs/);
    expect(kubernetesDoc).toMatch(/2 vCPUs/);
  });
});

describe('helm --timeout, the migration hooks and the docs', () => {
  const helmTimeoutSeconds = () => {
    const flags = skaffold.deploy.helm.flags;
    const seconds = (args: string[]) => {
      const value = args[args.indexOf('--timeout') + 1];
      const match = /^(\d+)m$/.exec(value ?? '');
      if (!match) throw new Error(`--timeout ${value} is not in minutes`);
      return Number(match[1]) * 60;
    };
    const install = seconds(flags.install);
    expect(seconds(flags.upgrade)).toBe(install);
    return install;
  };

  test('when helm waits for the hooks, then its --timeout covers both migration Jobs at their deadlines', () => {
    const ticketing = skaffold.deploy.helm.releases.find((r: { name: string }) => r.name === 'ticketing');
    const objects = render({ valuesFiles: ticketing.valuesFiles });
    const hooks = objects.filter((o) => o.kind === 'Job' && o.metadata.annotations?.['helm.sh/hook']);
    expect(hooks).toHaveLength(2);
    const deadlines = hooks.map((job) => job.spec.activeDeadlineSeconds as number);
    const timeout = helmTimeoutSeconds();
    expect(timeout).toBeGreaterThanOrEqual(deadlines.reduce((a, b) => a + b, 0));
    // Each hook's deadline leaves time to migrate after waiting the longest for PostgreSQL.
    for (const job of hooks) {
      const wait = job.spec.template.spec.initContainers?.[0]?.env?.find((e: { name: string }) => e.name === 'WAIT_TIMEOUT_SECONDS');
      expect(Number(wait?.value)).toBeLessThan(job.spec.activeDeadlineSeconds);
    }
  });

  test('when the docs speak of the timeout and the deadlines, then they give the same numbers', () => {
    const timeoutMinutes = helmTimeoutSeconds() / 60;
    expect(kubernetesDoc).toContain(`--timeout ${timeoutMinutes}m`);
    const values = readYaml('charts/ticketing/values.yaml');
    expect(kubernetesDoc).toContain(`activeDeadlineSeconds: ${values.eventService.migration.activeDeadlineSeconds}`);
    expect(values.bookingService.migration.activeDeadlineSeconds).toBe(values.eventService.migration.activeDeadlineSeconds);
    expect(kubernetesDoc).toContain(`waitForDatabase.timeoutSeconds: ${values.waitForDatabase.timeoutSeconds}`);
  });
});
