'use strict';
/**
 * Preloaded (node -r) into every process the benchmark starts: when the benchmark dies without cleaning up
 * (SIGKILL, OOM), the child is re-parented and notices within half a second, then stops itself with SIGTERM
 * (the product's own graceful shutdown). Touches nothing else in the child.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) {
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
    // If graceful shutdown hangs, do not outlive it for long.
    setTimeout(() => process.exit(1), 15_000).unref();
  }
}, 500);
timer.unref();
