import type { Logger } from 'pino';
import { ConfigError } from './config';
import { flushTracing } from './spans';

/** Exports the spans still buffered (no-op without tracing); a failing exporter never blocks the exit. */
const flushSpans = () => flushTracing().catch(() => undefined);

export interface Stoppable {
  stop(): Promise<void>;
}

/**
 * Runs a long-lived process: starts it, and on SIGTERM/SIGINT stops it gracefully (stop accepting work,
 * finish what is in flight, close pools) within the timeout, then exits. A bad configuration prints one
 * line and exits 1.
 */
export async function runProcess(
  name: string,
  start: () => Promise<Stoppable>,
  options: { logger?: Logger; shutdownTimeoutMs?: number } = {},
): Promise<void> {
  let running: Stoppable;
  try {
    running = await start();
  } catch (error) {
    reportStartFailure(name, error, options.logger);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    options.logger?.info({ signal }, `${name} shutting down`);
    const timeout = setTimeout(() => {
      options.logger?.error(`${name} did not stop within ${options.shutdownTimeoutMs ?? 10_000} ms; exiting`);
      process.exit(1);
    }, options.shutdownTimeoutMs ?? 10_000);
    timeout.unref();
    try {
      await running.stop();
      options.logger?.info(`${name} stopped`);
      await flushSpans();
      process.exit(0);
    } catch (error) {
      options.logger?.error({ err: error }, `${name} failed to stop cleanly`);
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** Runs a one-shot command (migration, job): exit 0 on success, 1 with a clear reason otherwise. */
export async function runTask(name: string, task: () => Promise<void>, logger?: Logger): Promise<void> {
  try {
    await task();
    await flushSpans();
    process.exit(0);
  } catch (error) {
    reportStartFailure(name, error, logger);
    await flushSpans();
    process.exit(1);
  }
}

function reportStartFailure(name: string, error: unknown, logger?: Logger) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${name}: ${error.message}\n`);
  } else if (logger) {
    logger.fatal({ err: error }, `${name} failed to start`);
  } else {
    process.stderr.write(`${name}: ${(error as Error)?.stack ?? String(error)}\n`);
  }
}

/**
 * A process's stop: runs the steps in order, once (later calls share the first call's promise). A failing step
 * does not keep the later ones (closing pools) from running; the first failure is rethrown at the end.
 */
export function stopInOrder(steps: Array<() => unknown>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const run = async () => {
    const failures: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length) throw failures[0];
  };
  return () => (stopping ??= run());
}
