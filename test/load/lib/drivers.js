'use strict';
/** Load shapes: closed-loop workers and a fixed arrival rate. */
const { performance } = require('node:perf_hooks');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `concurrency` workers each run `task()` back to back until stop() is called or a task returns false
 * (e.g. no seats left). Resolves when every worker has finished its last task.
 */
function closedLoop(concurrency, task) {
  let stopped = false;
  const workers = Array.from({ length: concurrency }, async (_, index) => {
    while (!stopped) {
      if ((await task(index)) === false) stopped = true;
    }
  });
  return {
    stop() {
      stopped = true;
    },
    get stopped() {
      return stopped;
    },
    done: Promise.all(workers),
  };
}

/**
 * Starts `task()` at `ratePerSecond` for `durationMs` (open loop: arrivals do not wait for answers), never
 * with more than `maxInFlight` outstanding; arrivals that would exceed it are dropped and counted as
 * `skipped`. Resolves when the last started task has finished.
 */
async function openLoop({ ratePerSecond, durationMs, maxInFlight = 512, task, shouldStop = () => false }) {
  const started = performance.now();
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  const pending = new Set();
  for (;;) {
    const elapsed = performance.now() - started;
    if (elapsed >= durationMs || shouldStop()) break;
    const due = Math.floor((elapsed / 1000) * ratePerSecond) + 1;
    while (sent + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped += 1;
        continue;
      }
      sent += 1;
      inFlight += 1;
      const promise = Promise.resolve()
        .then(() => task(sent - 1))
        .finally(() => {
          inFlight -= 1;
          pending.delete(promise);
        });
      pending.add(promise);
    }
    await sleep(Math.max(1, Math.min(10, 1000 / ratePerSecond / 2)));
  }
  const elapsedMs = performance.now() - started;
  await Promise.allSettled([...pending]);
  return { sent, skipped, elapsedMs };
}

module.exports = { closedLoop, openLoop, sleep };
