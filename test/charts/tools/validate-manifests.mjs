/**
 * Validates Kubernetes objects against the OpenAPI schemas shipped by kubernetes-models
 * (core and apps/batch/... groups) and @kubernetes-models/prometheus-operator (ServiceMonitor,
 * PrometheusRule). These packages are ES modules, so the Jest tests run this file as a child
 * process: JSON array of objects on stdin, JSON array of {index, kind, name, error} on stdout.
 * An object whose apiVersion/kind has no schema is reported as an error, never skipped.
 */
import { readFileSync } from 'node:fs';

const objects = JSON.parse(readFileSync(0, 'utf8'));

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

const results = [];
for (const [index, obj] of objects.entries()) {
  const name = obj?.metadata?.name;
  let error = null;
  try {
    const mod = await import(modulePath(obj.apiVersion, obj.kind));
    const Model = mod[obj.kind];
    if (typeof Model !== 'function') throw new Error('no model class exported');
    new Model(obj).validate();
  } catch (err) {
    error = `${obj.apiVersion}/${obj.kind} ${name}: ${err.message}`;
  }
  results.push({ index, kind: obj.kind, name, error });
}
process.stdout.write(JSON.stringify(results));
