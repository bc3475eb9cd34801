'use strict';
/**
 * `npm run bench -- --tracing-overhead`: what tracing costs scenario 1 (steady bookings). Runs the bench
 * itself once per variant — untraced, traced at 100 % and traced at a 10 % parent-based ratio, each against
 * a local OTLP receiver the bench starts — back to back for several rounds (rounds alternate the variants,
 * so a machine that gets busier part-way hurts all of them alike), then prints every round's throughput and
 * CPU per reservation, each variant's median and spread, and the median's cost against untraced.
 */
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { percentile } = require('./stats');

const VARIANTS = [
  { key: 'untraced', label: 'untraced', ratio: undefined },
  { key: 'traced_100', label: 'traced, 100 % sampled', ratio: 1 },
  { key: 'traced_10', label: 'traced, 10 % sampled', ratio: 0.1 },
];

/** The figures of one variant over its rounds (pure; unit-tested in test/load/tracing-overhead.test.ts). */
function summarizeVariant(runs) {
  const rates = runs.map((run) => run.rate).filter(Number.isFinite);
  const cpu = runs.map((run) => run.cpuMsPerReservation).filter(Number.isFinite);
  const booking = runs.map((run) => run.bookingMsPerReservation).filter(Number.isFinite);
  return {
    rates,
    median: rates.length ? percentile(rates, 50) : NaN,
    min: rates.length ? Math.min(...rates) : NaN,
    max: rates.length ? Math.max(...rates) : NaN,
    cpuMsPerReservation: cpu.length ? percentile(cpu, 50) : NaN,
    cpuMin: cpu.length ? Math.min(...cpu) : NaN,
    cpuMax: cpu.length ? Math.max(...cpu) : NaN,
    bookingMsPerReservation: booking.length ? percentile(booking, 50) : NaN,
    spans: runs.reduce((sum, run) => sum + (run.spans ?? 0), 0),
  };
}

/** CPU per reservation added against untraced, in percent (positive = more CPU). */
function cpuOverheadPercent(baseline, traced) {
  if (!Number.isFinite(baseline) || !Number.isFinite(traced) || baseline <= 0) return NaN;
  return Math.round(((traced - baseline) / baseline) * 1000) / 10;
}

/** Throughput lost against the untraced median, in percent (positive = slower). */
function overheadPercent(baseline, traced) {
  if (!Number.isFinite(baseline) || !Number.isFinite(traced) || baseline <= 0) return NaN;
  return Math.round(((baseline - traced) / baseline) * 1000) / 10;
}

/** The scenario 1 figures of one child bench run's JSON report. */
function readRun(report) {
  const steady = report.scenarios?.steady;
  // The CPU was counted over the warm-up too: divide by the reservations of that same window when known.
  const reservations = steady?.work?.count ?? steady?.figures?.requests?.value;
  const cpu = steady?.cpu_seconds ?? {};
  const productCpuS = ['booking-api', 'event-api', 'event-consumer'].reduce((sum, name) => sum + (cpu[name] ?? 0), 0);
  const msPerReservation = (seconds) => (reservations && Number.isFinite(seconds) ? Math.round((seconds * 1e6) / reservations) / 1000 : NaN);
  return {
    rate: steady?.figures?.reservations_per_s?.value ?? NaN,
    p99: steady?.figures?.p99_ms?.value ?? NaN,
    errors: steady?.figures?.errors?.value ?? NaN,
    cpuMsPerReservation: msPerReservation(productCpuS),
    bookingMsPerReservation: msPerReservation(cpu['booking-api']),
    bookingCpuS: cpu['booking-api'],
    eventCpuS: cpu['event-api'],
    otherProcessesS: cpu.other_processes_s,
    spans: report.tracing?.received?.spans ?? 0,
  };
}

function runChild(benchScript, variant, durationS, log) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tracing-')), 'run.json');
  const args = [benchScript, '--scenarios', '1', '--no-build', '--out', out, ...(durationS ? ['--duration', String(durationS)] : [])];
  const env = { ...process.env };
  delete env.BENCH_TRACE_RATIO;
  if (variant.ratio !== undefined) env.BENCH_TRACE_RATIO = String(variant.ratio);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { env, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (!fs.existsSync(out)) {
        reject(new Error(`${variant.label}: the bench run failed (${error?.message ?? 'no report'})\n${stdout.slice(-2000)}${stderr.slice(-2000)}`));
        return;
      }
      const report = JSON.parse(fs.readFileSync(out, 'utf8'));
      if (error) log(`    (${variant.label}: the run exited with ${error.code}; its figures are used anyway)`);
      resolve(readRun(report));
    });
  });
}

/**
 * A run that could not start (e.g. another bench or test briefly consuming the shared queue) is tried
 * again; its failure is printed, not hidden.
 */
async function runWithRetries(benchScript, variant, durationS, log, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runChild(benchScript, variant, durationS, log);
    } catch (error) {
      if (attempt >= attempts) throw error;
      log(`    (${variant.label}: attempt ${attempt} failed: ${error.message.split('\n').find((line) => /bench failed|Error/.test(line)) ?? error.message.split('\n')[0]}; retrying in 15 s)`);
      await new Promise((resolve) => setTimeout(resolve, 15_000));
    }
  }
}

async function runTracingOverhead({ benchScript, rounds, durationS, log }) {
  log(`Tracing overhead — scenario 1 (steady bookings), ${rounds} round(s) of ${VARIANTS.map((v) => v.label).join(' / ')}, back to back`);
  log(`  load average before: ${os.loadavg().map((n) => n.toFixed(2)).join(' ')} on ${os.cpus().length} CPUs`);
  const runs = Object.fromEntries(VARIANTS.map((variant) => [variant.key, []]));
  for (let round = 1; round <= rounds; round++) {
    // Rotate the order every round.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length]);
    for (const variant of order) {
      const run = await runWithRetries(benchScript, variant, durationS, log);
      runs[variant.key].push(run);
      log(
        `  round ${round} ${variant.label.padEnd(22)} ${String(run.rate).padStart(7)} reservations/s  p99 ${run.p99} ms  errors ${run.errors}  ` +
          `product CPU ${run.cpuMsPerReservation} ms/reservation (booking-api ${run.bookingMsPerReservation} ms; booking-api ${run.bookingCpuS} s, event-api ${run.eventCpuS} s; other processes on the machine ${run.otherProcessesS} s)` +
          `${variant.ratio !== undefined ? `  spans received ${run.spans}` : ''}`,
      );
    }
  }
  const summaries = Object.fromEntries(VARIANTS.map((variant) => [variant.key, summarizeVariant(runs[variant.key])]));
  const baseline = summaries.untraced;
  // On a shared machine the throughput swings with other processes' load; the product's CPU per reservation
  // (what each reservation costs, whatever the machine lets the product reach) is the steadier figure.
  log('\n  variant                 median /s   spread (min–max)   throughput cost   product CPU ms/reservation (min–max)   booking-api ms   CPU cost vs untraced');
  for (const variant of VARIANTS) {
    const s = summaries[variant.key];
    const untraced = variant.key === 'untraced';
    const cost = untraced ? '—' : `${overheadPercent(baseline.median, s.median)} %`;
    const cpuCost = untraced ? '—' : `${cpuOverheadPercent(baseline.cpuMsPerReservation, s.cpuMsPerReservation)} % (booking-api ${cpuOverheadPercent(baseline.bookingMsPerReservation, s.bookingMsPerReservation)} %)`;
    log(
      `  ${variant.label.padEnd(22)} ${String(s.median).padStart(9)}   ${`${s.min}–${s.max}`.padEnd(18)} ${cost.padStart(15)}   ` +
        `${`${s.cpuMsPerReservation} (${s.cpuMin}–${s.cpuMax})`.padEnd(36)} ${String(s.bookingMsPerReservation).padStart(14)}   ${cpuCost}`,
    );
  }
  log(`  load average after: ${os.loadavg().map((n) => n.toFixed(2)).join(' ')} (a busy, shared machine makes every figure noisy: compare the spread, not one run)`);
  return { runs, summaries };
}

module.exports = { runTracingOverhead, summarizeVariant, overheadPercent, cpuOverheadPercent, readRun, VARIANTS };
