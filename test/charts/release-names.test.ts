/**
 * Long release names: every rendered name stays within Kubernetes' limits (a CronJob's 52 characters, 63
 * for the rest), the suffixes survive the cut so no two objects collide, and every reference between the
 * chart's own objects still points at an object that exists.
 */
import { CHART, NAMESPACE, helm, parseManifests, type K8sObject } from './helm-tools';

const VALUE_SETS: Record<string, string[]> = {
  default: [],
  production: ['-f', 'charts/ticketing/ci/production-values.yaml'],
  monitoring: ['-f', 'k8s/values/ticketing.yaml', '-f', 'k8s/values/ticketing-monitoring.yaml'],
};

/** Helm refuses release names over 53 characters; 53 is the worst case. */
const LONGEST_RELEASE = 'ticketing-box-office-production-eu-central-1-blue-xyz';

function renderRelease(release: string, values: string[]): K8sObject[] {
  const r = helm(['template', release, CHART, '--namespace', NAMESPACE, ...values]);
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseManifests(r.stdout);
}

const limitOf = (o: K8sObject) => (o.kind === 'CronJob' ? 52 : 63);

/** Names of ConfigMaps, Secrets and Services the chart's own objects refer to. */
function references(objects: K8sObject[]): Array<{ kind: string; name: string; from: string }> {
  const found: Array<{ kind: string; name: string; from: string }> = [];
  const walk = (value: unknown, from: string) => {
    if (Array.isArray(value)) return value.forEach((item) => walk(item, from));
    if (!value || typeof value !== 'object') return;
    const node = value as Record<string, any>;
    if (node.configMapRef?.name) found.push({ kind: 'ConfigMap', name: node.configMapRef.name, from });
    if (node.scaleTargetRef?.name) found.push({ kind: node.scaleTargetRef.kind, name: node.scaleTargetRef.name, from });
    for (const child of Object.values(node)) walk(child, from);
  };
  for (const o of objects) walk(o.spec ?? {}, `${o.kind}/${o.metadata.name}`);
  return found;
}

describe('release names up to the 53 characters helm allows', () => {
  test.each(Object.keys(VALUE_SETS))('when the release name is 53 characters (%s values), then every name fits its limit', (set) => {
    expect(LONGEST_RELEASE).toHaveLength(53);
    const objects = renderRelease(LONGEST_RELEASE, VALUE_SETS[set]);
    expect(objects.length).toBeGreaterThan(10);
    const tooLong = objects
      .filter((o) => o.metadata.name.length > limitOf(o))
      .map((o) => `${o.kind}/${o.metadata.name} (${o.metadata.name.length} > ${limitOf(o)})`);
    expect(tooLong).toEqual([]);
    const badLabels = objects.flatMap((o) =>
      Object.entries(o.metadata.labels ?? {})
        .filter(([, value]) => String(value).length > 63)
        .map(([key, value]) => `${o.kind}/${o.metadata.name} ${key}=${value}`),
    );
    expect(badLabels).toEqual([]);
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  test('when the release name is long, then the suffix of each component is kept whole and the CronJob is cut to 52', () => {
    const objects = renderRelease(LONGEST_RELEASE, []);
    const cronJob = objects.find((o) => o.kind === 'CronJob')!;
    expect(cronJob.metadata.name).toMatch(/^ticketing-box-office-.*-expire-reservations$/);
    expect(cronJob.metadata.name.length).toBeLessThanOrEqual(52);
    const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
    expect(deployments.map((name) => name.replace(/^.*?-(event-api|event-consumer|booking-api|web-app)$/, '$1')).sort()).toEqual([
      'booking-api',
      'event-api',
      'event-consumer',
      'web-app',
    ]);
  });

  test('when the release name is long, then every ConfigMap and scale target the chart refers to exists', () => {
    for (const values of Object.values(VALUE_SETS)) {
      const objects = renderRelease(LONGEST_RELEASE, values);
      const have = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
      const missing = references(objects).filter((ref) => !have.has(`${ref.kind}/${ref.name}`));
      expect(missing).toEqual([]);
    }
  });

  test('when the release name is short, then names are exactly as before (no cut)', () => {
    const names = renderRelease('ticketing', []).map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Deployment/ticketing-event-api',
        'Deployment/ticketing-event-consumer',
        'Deployment/ticketing-booking-api',
        'CronJob/ticketing-expire-reservations',
        'Service/ticketing-event-consumer-metrics',
        'Job/ticketing-event-migrate',
        'Job/ticketing-booking-migrate',
        'ConfigMap/ticketing-event-service',
        'ConfigMap/ticketing-booking-service',
      ]),
    );
  });
});
