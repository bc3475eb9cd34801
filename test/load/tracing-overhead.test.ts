/* eslint-disable @typescript-eslint/no-require-imports */
const { summarizeVariant, overheadPercent, cpuOverheadPercent, readRun } = require('./lib/tracing-overhead.js');
const { countSpans } = require('./lib/otlp-receiver.js');

describe('tracing overhead figures', () => {
  test('when a variant ran several rounds, then its median, spread and CPU per reservation come from all of them', () => {
    const summary = summarizeVariant([
      { rate: 100, cpuMsPerReservation: 4, bookingMsPerReservation: 3, spans: 10 },
      { rate: 120, cpuMsPerReservation: 5, bookingMsPerReservation: 2, spans: 20 },
      { rate: 90, cpuMsPerReservation: 6, bookingMsPerReservation: 4, spans: 30 },
    ]);
    expect(summary).toMatchObject({ median: 100, min: 90, max: 120, cpuMsPerReservation: 5, cpuMin: 4, cpuMax: 6, bookingMsPerReservation: 3, spans: 60 });
  });

  test('when traced CPU per reservation is higher, then its cost is the share added to untraced', () => {
    expect(cpuOverheadPercent(4, 4.4)).toBe(10);
    expect(cpuOverheadPercent(4, 3.8)).toBe(-5);
    expect(cpuOverheadPercent(0, 1)).toBeNaN();
  });

  test('when traced throughput is lower, then the cost is the share lost against untraced', () => {
    expect(overheadPercent(120, 108)).toBe(10);
    expect(overheadPercent(100, 105)).toBe(-5);
    expect(overheadPercent(0, 10)).toBeNaN();
  });

  test('when a child bench wrote its report, then scenario 1’s rate, CPU per reservation and spans are read from it', () => {
    const run = readRun({
      scenarios: {
        steady: {
          figures: { reservations_per_s: { value: 50 }, requests: { value: 1000 }, p99_ms: { value: 80 }, errors: { value: 0 } },
          cpu_seconds: { 'booking-api': 2, 'event-api': 1, 'event-consumer': 0.5, other_processes_s: 3 },
        },
      },
      tracing: { received: { spans: 12345 } },
    });
    expect(run).toMatchObject({ rate: 50, cpuMsPerReservation: 3.5, bookingMsPerReservation: 2, spans: 12345, p99: 80, errors: 0 });
  });

  test('when the report counts the reservations of the CPU window (warm-up included), then CPU is divided by those', () => {
    const run = readRun({
      scenarios: {
        steady: {
          figures: { reservations_per_s: { value: 50 }, requests: { value: 1000 } },
          cpu_seconds: { 'booking-api': 2.5, 'event-api': 0.5 },
          work: { unit: 'reservation', count: 1250 },
        },
      },
    });
    expect(run).toMatchObject({ cpuMsPerReservation: 2.4, bookingMsPerReservation: 2 });
  });

  test('when the receiver decodes an OTLP/JSON request, then it counts the spans of every resource and scope', () => {
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [{}, {}] }, { spans: [{}] }] }, { scopeSpans: [{ spans: [{}] }] }] };
    expect(countSpans(body)).toBe(4);
    expect(countSpans({})).toBe(0);
  });
});
