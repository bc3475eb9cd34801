'use strict';
/**
 * Percentiles and latency summaries for the on-sale benchmark. Pure functions, unit-tested in
 * test/load/stats.test.ts. Percentiles use the nearest-rank method on the sorted samples: p99 of 100
 * samples is the 99th smallest, so a percentile is always a value that was actually measured.
 */

/** Nearest-rank percentile of already sorted numbers (ascending); NaN for no samples. */
function percentileOfSorted(sorted, p) {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p === 0) return sorted[0];
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1];
}

/** Nearest-rank percentile of unsorted numbers (the input is not modified). */
function percentile(samples, p) {
  return percentileOfSorted(Float64Array.from(samples).sort(), p);
}

/** count, min, mean, p50, p95, p99, max of the samples (milliseconds in, milliseconds out). */
function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  return {
    count: n,
    min: sorted[0],
    mean: sum / n,
    p50: percentileOfSorted(sorted, 50),
    p95: percentileOfSorted(sorted, 95),
    p99: percentileOfSorted(sorted, 99),
    max: sorted[n - 1],
  };
}

/** Events per second; NaN when the window is empty. */
function ratePerSecond(count, elapsedMs) {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : NaN;
}

/** Rounds for display and JSON: NaN/undefined stay as they are, numbers keep `digits` decimals. */
function round(value, digits = 1) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Counts of each key, as a plain object sorted by key (e.g. HTTP statuses). */
function countBy(values) {
  const counts = new Map();
  for (const value of values) counts.set(String(value), (counts.get(String(value)) ?? 0) + 1);
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

module.exports = { percentile, percentileOfSorted, summarize, ratePerSecond, round, countBy };
