/**
 * Helpers for the chart tests: real helm (extracted from the npm package pinned in the lockfile),
 * YAML parsing, and validation of rendered objects against the Kubernetes schemas.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CHART = path.join(ROOT, 'charts', 'ticketing');
export const RELEASE = 'ticketing';
export const NAMESPACE = 'shop';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ensureTools } = require('./tools/install-helm.js') as { ensureTools: () => string };

let helmPath: string | undefined;
export function helmBinary(): string {
  helmPath ??= ensureTools();
  return helmPath;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs helm without any cluster: KUBECONFIG points nowhere, so nothing can reach a real one. */
export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBinary(), args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: path.join(tmpdir(), 'ticketing-chart-tests-no-kubeconfig'), HELM_CACHE_HOME: path.join(ROOT, '.tools', 'helm-cache') },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A rendered object. labels/annotations are typed as present for brevity; use ?. where an object may lack them. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> }; [key: string]: any };

export interface RenderOptions {
  valuesFiles?: string[];
  set?: string[];
}

export function templateArgs(opts: RenderOptions = {}): string[] {
  const args = ['template', RELEASE, CHART, '--namespace', NAMESPACE];
  for (const f of opts.valuesFiles ?? []) args.push('-f', path.join(ROOT, f));
  for (const s of opts.set ?? []) args.push('--set', s);
  return args;
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`invalid YAML from helm: ${doc.errors[0].message}`);
      return doc.toJSON() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** `helm template`; throws with helm's own message when rendering fails. */
export function render(opts: RenderOptions = {}): K8sObject[] {
  const r = helm(templateArgs(opts));
  if (r.status !== 0) throw new Error(`helm template failed:\n${r.stderr}`);
  return parseManifests(r.stdout);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`${kind}/${name} not rendered; have: ${have}`);
  }
  return found;
}

/** Validation against the OpenAPI schema of each object's apiVersion/kind (see tools/validate-manifests.mjs). */
export function schemaErrors(objects: K8sObject[]): string[] {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'tools', 'validate-manifests.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const results = JSON.parse(out) as { error: string | null }[];
  if (results.length !== objects.length) throw new Error('validator skipped objects');
  return results.filter((r) => r.error).map((r) => r.error as string);
}

function typeModule(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${kind}`;
}

/**
 * Strict check the OpenAPI schemas cannot do (they allow unknown fields): every object becomes a
 * TypeScript object literal typed with the kubernetes-models interface of its kind, so the
 * compiler's excess-property check reports any misspelt or misplaced field, at any depth.
 */
export function unknownFieldErrors(objects: K8sObject[]): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'ticketing-chart-types-'));
  try {
    const file = path.join(dir, 'manifests.ts');
    const source = objects
      .map((o, i) => {
        const alias = `T${i}`;
        return `import type { I${o.kind} as ${alias} } from ${JSON.stringify(typeModule(o.apiVersion, o.kind))};\n` +
          `export const o${i}: ${alias} = ${JSON.stringify(o)};\n`;
      })
      .join('');
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      types: [],
      baseUrl: ROOT,
      paths: { '*': [path.join(ROOT, 'node_modules', '*')] },
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const index = where ? Math.floor(where.line / 2) : -1;
      const obj = objects[index];
      const label = obj ? `${obj.kind}/${obj.metadata.name}` : 'manifests';
      return `${label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every pod spec of a workload object (Deployment, Job, CronJob, Pod). */
export function podSpec(o: K8sObject): any {
  switch (o.kind) {
    case 'Deployment':
    case 'Job':
      return o.spec.template.spec;
    case 'CronJob':
      return o.spec.jobTemplate.spec.template.spec;
    case 'Pod':
      return o.spec;
    default:
      throw new Error(`${o.kind} has no pod spec`);
  }
}

export const WORKLOAD_KINDS = ['Deployment', 'Job', 'CronJob', 'Pod'];
