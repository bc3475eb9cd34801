/**
 * Starts test/observability/support/traced-system-child.js (the whole product with tracing on and an
 * in-memory span exporter, in plain Node) and talks to it over IPC. Log lines of the child's services are
 * collected as parsed JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
  service: string;
  attributes: Record<string, unknown>;
  status: number;
  links: Array<{ traceId: string; spanId: string }>;
  /** Event names (e.g. `exception`). */
  events: string[];
}

export interface TracedSystem {
  eventUrl: string;
  bookingUrl: string;
  consumerUrl: string;
  spans(): Promise<ExportedSpan[]>;
  logLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

function nextMessage<T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no '${type}' message from the traced system within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type: string }) => {
      if (message.type === type) finish(undefined, message as T);
    };
    const onExit = (code: number | null) => finish(new Error(`traced system exited (${code}) before '${type}'`));
    function finish(error?: Error, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startTracedSystem(label: string, logLevel = 'info'): Promise<TracedSystem> {
  const env: NodeJS.ProcessEnv = { ...process.env, TRACED_SYSTEM_LABEL: label, TEST_LOG_LEVEL: logLevel };
  // The test's own span processor is the only exporter.
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete env.OTEL_SERVICE_NAME;
  const child = fork(path.join(__dirname, 'traced-system-child.js'), [], { env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const complete = pending.split('\n');
    pending = complete.pop() ?? '';
    for (const line of complete) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  let ready: { eventUrl: string; bookingUrl: string; consumerUrl: string };
  try {
    ready = await nextMessage(child, 'ready', 90_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return {
    ...ready,
    async spans() {
      const reply = nextMessage<{ spans: ExportedSpan[] }>(child, 'spans', 10_000);
      child.send({ type: 'spans' });
      return (await reply).spans;
    },
    logLines: () => lines,
    async stop() {
      if (child.exitCode !== null) return;
      const stopped = nextMessage(child, 'stopped', 30_000).catch(() => child.kill('SIGKILL'));
      child.send({ type: 'stop' });
      await stopped;
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
