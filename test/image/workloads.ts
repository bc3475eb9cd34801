/**
 * The chart's view of an image, from `helm template` output: which processes each workload starts, with
 * exactly which environment, on which port, probed where. And a way to run those processes from an
 * assembled image folder the way the kubelet would: exec form, the image's ENV and user, only the
 * container's environment, SIGTERM to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { podSpec, type K8sObject } from '../charts/helm-tools';
import type { AssembledImage } from './dockerfile';

export interface ChartContainer {
  /** e.g. Job/ticketing-event-migrate (init) wait-for-postgres */
  label: string;
  command: string[];
  env: Record<string, string>;
  /** containerPort by port name. */
  ports: Record<string, number>;
  /** Distinct httpGet probe targets of the container. */
  probes: { path: string; port: number }[];
}

export interface ChartWorkload {
  kind: string;
  name: string;
  image: string;
  /** helm.sh/hook-weight for hooks (run order), 0 otherwise. */
  hookWeight: number;
  initContainers: ChartContainer[];
  containers: ChartContainer[];
}

/** Values of Secrets that other releases own (PostgreSQL, RabbitMQ, Redis), by "secret/key". */
export type ExternalSecrets = Record<string, string>;

/** Every Deployment, Job and CronJob of the rendered chart, with each container's resolved environment. */
export function chartWorkloads(objects: K8sObject[], externalSecrets: ExternalSecrets): ChartWorkload[] {
  return objects
    .filter((object) => ['Deployment', 'Job', 'CronJob'].includes(object.kind))
    .map((object) => {
      const spec = podSpec(object);
      const label = `${object.kind}/${object.metadata.name}`;
      const resolve = (container: any, init: boolean): ChartContainer => {
        const ports: Record<string, number> = {};
        for (const port of container.ports ?? []) ports[port.name] = port.containerPort;
        const probes = new Map<string, { path: string; port: number }>();
        for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
          if (!probe?.httpGet) continue;
          const port = typeof probe.httpGet.port === 'number' ? probe.httpGet.port : ports[probe.httpGet.port];
          probes.set(`${port}${probe.httpGet.path}`, { path: probe.httpGet.path, port });
        }
        return {
          label: `${label} ${init ? '(init) ' : ''}${container.name}`,
          command: [...(container.command ?? []), ...(container.args ?? [])],
          env: containerEnv(container, objects, externalSecrets, label),
          ports,
          probes: [...probes.values()],
        };
      };
      const images = new Set((spec.containers as any[]).map((container) => container.image as string));
      if (images.size !== 1) throw new Error(`${label}: expected one image for its containers`);
      return {
        kind: object.kind,
        name: object.metadata.name,
        image: [...images][0],
        hookWeight: Number(object.metadata.annotations?.['helm.sh/hook-weight'] ?? 0),
        initContainers: ((spec.initContainers ?? []) as any[]).map((container) => resolve(container, true)),
        containers: (spec.containers as any[]).map((container) => resolve(container, false)),
      };
    });
}

/** The environment Kubernetes would give the container: envFrom first, then env in order, $(VAR) expanded. */
function containerEnv(container: any, objects: K8sObject[], externalSecrets: ExternalSecrets, label: string): Record<string, string> {
  const find = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
  const secretValue = (name: string, key: string): string => {
    const secret = find('Secret', name);
    if (secret) {
      if (secret.stringData?.[key] !== undefined) return secret.stringData[key];
      if (secret.data?.[key] !== undefined) return Buffer.from(secret.data[key], 'base64').toString('utf8');
      throw new Error(`${label}: Secret ${name} of this chart has no key ${key}`);
    }
    const value = externalSecrets[`${name}/${key}`];
    if (value === undefined) throw new Error(`${label}: the test knows no value for Secret ${name} key ${key}`);
    return value;
  };
  const hasSecretKey = (name: string, key: string): boolean => {
    const secret = find('Secret', name);
    if (secret) return secret.stringData?.[key] !== undefined || secret.data?.[key] !== undefined;
    return externalSecrets[`${name}/${key}`] !== undefined;
  };
  const configMapData = (name: string): Record<string, string> => {
    const configMap = find('ConfigMap', name);
    if (!configMap) throw new Error(`${label}: ConfigMap ${name} is not rendered by the chart`);
    return configMap.data ?? {};
  };

  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, configMapData(source.configMapRef.name));
    else if (source.secretRef) {
      const secret = find('Secret', source.secretRef.name);
      if (!secret) throw new Error(`${label}: envFrom Secret ${source.secretRef.name} is not rendered by the chart`);
      for (const key of Object.keys(secret.data ?? {})) env[key] = secretValue(source.secretRef.name, key);
    } else throw new Error(`${label}: unsupported envFrom ${JSON.stringify(source)}`);
  }
  for (const variable of container.env ?? []) {
    if (variable.valueFrom?.secretKeyRef) {
      const { name, key, optional } = variable.valueFrom.secretKeyRef;
      // An optional key the Secret lacks leaves the variable unset, as Kubernetes does.
      const value = optional && !hasSecretKey(name, key) ? undefined : secretValue(name, key);
      if (value !== undefined) env[variable.name] = value;
    } else if (variable.valueFrom?.configMapKeyRef) {
      env[variable.name] = configMapData(variable.valueFrom.configMapKeyRef.name)[variable.valueFrom.configMapKeyRef.key];
    } else if (variable.valueFrom) {
      throw new Error(`${label}: unsupported valueFrom for ${variable.name}`);
    } else {
      // $(NAME) refers to a variable defined before it; $$ escapes.
      env[variable.name] = String(variable.value ?? '').replace(/\$\$|\$\((\w+)\)/g, (match: string, name?: string) =>
        match === '$$' ? '$' : (env[name!] ?? match),
      );
    }
  }
  return env;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ImageProcess {
  label: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** The last `limit` characters of its output (64 KiB are kept), for failure messages. */
  output(limit?: number): string;
}

/** Processes started and not yet seen to exit, so cleanup can kill them even after a failure. */
export const runningProcesses = new Set<ImageProcess>();

/**
 * Starts a container command in the image folder as the container would: `node` is the node running
 * these tests (the test checks it is the image's major version), the working directory is the image's
 * WORKDIR, the environment is the image's ENV plus the container's env and nothing else of this
 * machine but PATH, and, when the tests run as root, the process runs as the image's USER.
 */
export function startImageProcess(label: string, image: AssembledImage, command: string[], env: Record<string, string>): ImageProcess {
  const [program, ...args] = command;
  if (program !== 'node') throw new Error(`${label}: only node commands are run (got ${program})`);
  const asImageUser = image.user && process.getuid?.() === 0 ? { uid: image.user.uid, gid: image.user.gid } : {};
  const child = spawn(process.execPath, args, {
    cwd: image.appDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...image.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...asImageUser,
  });
  let output = '';
  const append = (chunk: Buffer | string) => {
    output = (output + chunk.toString()).slice(-64 * 1024);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) => {
    child.once('error', (error) => {
      append(`spawn failed: ${error.message}\n`);
      resolve('spawn-error');
    });
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const handle: ImageProcess = { label, child, exited, output: (limit = 4000) => output.slice(-limit) };
  runningProcesses.add(handle);
  void exited.then(() => runningProcesses.delete(handle));
  return handle;
}

/** Waits for a one-shot process (Job, init container) to end by itself; SIGKILL after `timeoutMs`. */
export async function runToCompletion(handle: ImageProcess, timeoutMs = 120_000): Promise<number | string> {
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), timeoutMs);
  try {
    return await handle.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM, as the kubelet sends it. Returns the exit code, or 'no exit' after `graceMs` (then SIGKILL). */
export async function terminate(handle: ImageProcess, graceMs: number): Promise<number | string> {
  handle.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('no exit'), graceMs);
  });
  const outcome = await Promise.race([handle.exited, overdue]);
  clearTimeout(timer);
  if (outcome === 'no exit') {
    handle.child.kill('SIGKILL');
    await handle.exited;
  }
  return outcome;
}

/** Polls `url` like a startup probe until it answers 200; fails at once, with the output, if the process ends. */
export async function waitForOk(handle: ImageProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void handle.exited.then(() => {
    ended = true;
  });
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (ended) throw new Error(`${handle.label} exited (${await handle.exited}) before ${url} answered 200:\n${handle.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last}):\n${handle.output()}`);
}
