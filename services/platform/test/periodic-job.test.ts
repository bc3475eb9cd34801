import type { Logger } from 'pino';
import { startPeriodicJob } from '../src/periodic-job';

/** A logger that remembers its warnings. */
function recordingLogger() {
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  return { logger, warnings };
}

/** A run that stays in progress until `finish()`. */
function gatedRun() {
  let finish!: () => void;
  const gate = new Promise<void>((resolve) => (finish = resolve));
  let runs = 0;
  return {
    run: async () => {
      runs += 1;
      await gate;
    },
    finish: () => finish(),
    runs: () => runs,
  };
}

describe('startPeriodicJob', () => {
  afterEach(() => jest.useRealTimers());

  test('when the interval passes, then the job runs, and again at every interval', async () => {
    jest.useFakeTimers();
    let runs = 0;
    const job = startPeriodicJob({ name: 'Job', intervalMs: 1_000, logger: recordingLogger().logger, run: async () => void (runs += 1) });

    await jest.advanceTimersByTimeAsync(999);
    expect(runs).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(runs).toBe(3);
    await job.stop();
  });

  test('when a first delay is given, then the first run waits for it instead of one interval', async () => {
    jest.useFakeTimers();
    let runs = 0;
    const job = startPeriodicJob({ name: 'Job', intervalMs: 60_000, firstRunAfterMs: 10, logger: recordingLogger().logger, run: async () => void (runs += 1) });

    await jest.advanceTimersByTimeAsync(10);

    expect(runs).toBe(1);
    await job.stop();
  });

  test('when a run is still in progress, then ticks and runNow join it instead of starting another', async () => {
    jest.useFakeTimers();
    const gated = gatedRun();
    const job = startPeriodicJob({ name: 'Job', intervalMs: 100, logger: recordingLogger().logger, run: gated.run });

    await jest.advanceTimersByTimeAsync(500);
    const joined = job.runNow();
    gated.finish();
    await joined;

    expect(gated.runs()).toBe(1);
    await job.stop();
  });

  test('when a run fails, then it is logged and the next tick runs the job again', async () => {
    jest.useFakeTimers();
    const { logger, warnings } = recordingLogger();
    let runs = 0;
    const job = startPeriodicJob({
      name: 'Flaky job',
      intervalMs: 100,
      logger,
      run: async () => {
        runs += 1;
        if (runs === 1) throw new Error('database restarting');
      },
    });

    await jest.advanceTimersByTimeAsync(200);

    expect(warnings).toEqual(['Flaky job failed; will retry']);
    expect(runs).toBe(2);
    await job.stop();
  });

  test('when stopped during a run, then stop waits for that run and the timer never fires again', async () => {
    jest.useFakeTimers();
    const gated = gatedRun();
    const job = startPeriodicJob({ name: 'Job', intervalMs: 100, logger: recordingLogger().logger, run: gated.run });
    await jest.advanceTimersByTimeAsync(100);

    let stopped = false;
    const stopping = job.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    gated.finish();
    await stopping;
    await jest.advanceTimersByTimeAsync(1_000);

    expect(gated.runs()).toBe(1);
  });

  test('when the interval is 0, then only runNow runs the job', async () => {
    jest.useFakeTimers();
    let runs = 0;
    const job = startPeriodicJob({ name: 'Job', intervalMs: 0, logger: recordingLogger().logger, run: async () => void (runs += 1) });

    await jest.advanceTimersByTimeAsync(3_600_000);
    expect(runs).toBe(0);
    await job.runNow();

    expect(runs).toBe(1);
    await job.stop();
  });
});
