import type { Logger } from 'pino';

export interface PeriodicJobOptions {
  /** Names the job in its failure log line ("<name> failed; will retry"). */
  name: string;
  /** Time between runs; 0 or less: never by timer (`runNow` still runs it). */
  intervalMs: number;
  /** Wait before the first run (default: one interval), e.g. to keep out of the way of a restart's backlog. */
  firstRunAfterMs?: number;
  logger: Logger;
  run: () => Promise<void>;
}

export interface PeriodicJob {
  /** Runs the job now, or joins the run in progress; never rejects (a failure is logged). */
  runNow(): Promise<void>;
  /** Clears the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * A job a process runs every `intervalMs` (the expiry sweep, payment recovery, the lapsed-hold check, the
 * message-id purge). Runs never overlap: a tick while one runs is skipped. A failure is logged and the job
 * tries again at the next tick. The timers do not keep the process alive.
 */
export function startPeriodicJob(options: PeriodicJobOptions): PeriodicJob {
  const { name, intervalMs, logger } = options;
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const runNow = () =>
    (running ??= options
      .run()
      .catch((error: unknown) => logger.warn({ err: error, job: name }, `${name} failed; will retry`))
      .finally(() => {
        running = undefined;
      }));
  if (intervalMs > 0) {
    timer = setTimeout(() => {
      if (stopped) return;
      void runNow();
      timer = setInterval(() => void runNow(), intervalMs).unref();
    }, options.firstRunAfterMs ?? intervalMs).unref();
  }
  return {
    runNow,
    stop: async () => {
      stopped = true;
      clearTimeout(timer); // clears the interval too (one timer type in Node)
      await running;
    },
  };
}
