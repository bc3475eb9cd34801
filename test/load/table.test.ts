/* eslint-disable @typescript-eslint/no-require-imports */
const { verdict, formatNumber, formatValue, formatTable, misses } = require('./lib/table.js');

describe('bench table', () => {
  it('judges figures against their targets', () => {
    expect(verdict({ value: 1200, target: { op: '>=', value: 1000 } })).toBe('PASS');
    expect(verdict({ value: 999.9, target: { op: '>=', value: 1000 } })).toBe('MISS');
    expect(verdict({ value: 50, target: { op: '<=', value: 50 } })).toBe('PASS');
    expect(verdict({ value: 1, target: { op: '==', value: 0 } })).toBe('MISS');
    expect(verdict({ value: NaN, target: { op: '<=', value: 50 } })).toBe('n/a');
    expect(verdict({ value: 3 })).toBe('');
  });

  it('formats numbers for people', () => {
    expect(formatNumber(1234567)).toBe('1,234,567');
    expect(formatNumber(1234.56)).toBe('1,234.6');
    expect(formatNumber(3.14159)).toBe('3.14');
    expect(formatNumber(0.2567, 3)).toBe('0.257');
    expect(formatNumber(-12345.5)).toBe('-12,345.5');
    expect(formatNumber(NaN)).toBe('n/a');
    expect(formatNumber(undefined)).toBe('-');
    expect(formatValue(12.5, 'ms')).toBe('12.5 ms');
    expect(formatValue(NaN, 'ms')).toBe('n/a');
  });

  it('lays out one aligned line per figure with the target and the result', () => {
    const text = formatTable('1. Steady', [
      { label: 'reservations/s', value: 1500, unit: '/s', target: { op: '>=', value: 1000 } },
      { label: 'latency p99', value: 72.25, unit: 'ms', target: { op: '<=', value: 50 }, note: 'slow' },
      { label: 'requests', value: 30000 },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('1. Steady');
    expect(lines[2]).toMatch(/^figure\s+measured\s+target\s+result$/);
    expect(lines[3]).toMatch(/^reservations\/s\s+1,500 \/s\s+≥ 1,000 \/s\s+PASS$/);
    expect(lines[4]).toMatch(/^latency p99\s+72\.3 ms\s+≤ 50 ms\s+MISS\s+slow$/);
    expect(lines[5]).toMatch(/^requests\s+30,000$/);
    // Columns line up.
    expect(lines[3].indexOf('1,500')).toBe(lines[4].indexOf('72.3'));
  });

  it('lists the missed targets', () => {
    const sections = [
      { title: 'A', figures: [{ label: 'x', value: 1, target: { op: '>=', value: 2 } }, { label: 'y', value: 3, target: { op: '>=', value: 2 } }] },
      { title: 'B', figures: [{ label: 'z', value: 9 }] },
    ];
    expect(misses(sections)).toEqual(['A: x']);
  });
});
