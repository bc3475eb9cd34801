/* eslint-disable @typescript-eslint/no-require-imports */
const { percentile, percentileOfSorted, summarize, ratePerSecond, round, countBy } = require('./lib/stats.js');

describe('benchmark statistics', () => {
  it('uses the nearest-rank percentile, so every percentile is a measured value', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 95)).toBe(95);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile(samples, 0)).toBe(1);
    expect(percentile([7, 1, 3], 50)).toBe(3);
    expect(percentile([5], 99)).toBe(5);
  });

  it('rounds the rank up for small samples and does not reorder the input', () => {
    const samples = [40, 10, 30, 20];
    expect(percentile(samples, 99)).toBe(40);
    expect(percentile(samples, 25)).toBe(10);
    expect(percentile(samples, 26)).toBe(20);
    expect(samples).toEqual([40, 10, 30, 20]);
  });

  it('answers NaN for no samples and rejects impossible percentiles', () => {
    expect(percentile([], 99)).toBeNaN();
    expect(() => percentileOfSorted([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], -1)).toThrow(RangeError);
  });

  it('summarizes latencies', () => {
    const summary = summarize([3, 1, 2, 4, 100]);
    expect(summary).toEqual({ count: 5, min: 1, mean: 22, p50: 3, p95: 100, p99: 100, max: 100 });
    expect(summarize([]).count).toBe(0);
    expect(summarize([]).p99).toBeNaN();
  });

  it('computes rates, rounds for display and counts statuses', () => {
    expect(ratePerSecond(500, 2_000)).toBe(250);
    expect(ratePerSecond(1, 0)).toBeNaN();
    expect(round(1.2345, 2)).toBe(1.23);
    expect(round(NaN)).toBeNaN();
    expect(countBy(['409', '201', '409', 'net:TIMEOUT'])).toEqual({ '201': 1, '409': 2, 'net:TIMEOUT': 1 });
  });
});
