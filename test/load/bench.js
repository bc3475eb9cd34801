#!/usr/bin/env node
/**
 * `npm run bench`: the on-sale benchmark of issue 6. Builds the product (tsc -b, only what changed),
 * recreates dedicated databases, starts the product's processes from dist as separate node processes
 * (event API, event consumer, booking API; the expiry job for scenario 5) at LOG_LEVEL=warn, builds a
 * catalog through the public API, runs the scenarios against 127.0.0.1 and prints one table per scenario
 * with every target. See test/load/README.md.
 */
'use strict';

const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { parseArgs, ArgsError, USAGE } = require('./lib/args');
const { ProcessGroup, freePort, readMemory, cpuBetween, ROOT } = require('./lib/processes');
const { createClient } = require('./lib/http-client');
const { buildCatalog } = require('./lib/catalog');
const { BENCH_SECRETS } = require('./lib/bench-identity');
const { createDatabase, dropDatabase, openConnection, eventQueueState, EVENT_SERVICE_QUEUE } = require('./lib/infra');
const { formatTable, verdict, misses } = require('./lib/table');
const { summarizeProfile } = require('./lib/cpuprofile');
const { round } = require('./lib/stats');
const scenarios = require('./lib/scenarios');
const { waitingRoom } = require('./lib/waiting-room-scenario');
const { liveSeatMapAtCapacity } = require('./lib/live-map-scenario');
const { reachable } = require('../../scripts/lib/local-processes');
const { startOtlpReceiver } = require('./lib/otlp-receiver');
const { runTracingOverhead } = require('./lib/tracing-overhead');

const execFileAsync = promisify(execFile);

const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RABBITMQ_URL = process.env.BENCH_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const EVENT_DB = 'event_service_bench';
const BOOKING_DB = 'booking_service_bench';
const LOG_LEVEL = 'warn';
const HARD_LIMIT_MS = 20 * 60_000;
const DEFAULT_DURATION_S = 20;

const SCENARIO_NAMES = {
  1: 'steady bookings',
  2: 'flash sale',
  3: 'seat map',
  4: 'confirm → sold',
  5: 'expiry',
  6: 'pgbench',
  7: 'open-loop bookings',
  8: 'live seat map',
  9: 'waiting room',
};
/** Sessions each scenario needs: rows × seats per row. */
const SESSION_SPECS = (durationS) => ({
  1: { key: 'steady', rows: Math.ceil((Math.min(100_000, Math.max(20_000, durationS * 2_500)) / 200)), seatsPerRow: 200 },
  2: { key: 'flash', rows: 20, seatsPerRow: 50, vipRows: 5 },
  3: { key: 'map', rows: 100, seatsPerRow: 200, vipRows: 10 },
  4: { key: 'confirm', rows: Math.ceil((200 * durationS + 100) / 100), seatsPerRow: 100 },
  5: { key: 'expiry', rows: 50, seatsPerRow: 200 },
  7: { key: 'openloop', rows: 60, seatsPerRow: 200 },
  8: { key: 'live', rows: 100, seatsPerRow: 200 },
  9: { key: 'queue', rows: 20, seatsPerRow: 50 },
});

const log = (line = '') => process.stdout.write(`${line}\n`);

async function build() {
  const started = Date.now();
  log('Building (tsc -b: only projects whose sources changed)…');
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await execFileAsync(process.execPath, [tsc, '-b', 'services/platform', 'services/event-service', 'services/booking-service'], { cwd: ROOT, maxBuffer: 16 << 20 });
  } catch (error) {
    throw new Error(`the build failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
  log(`  built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** One line: CPU seconds per process during the scenario, and per unit of work when the scenario names one. */
function formatCpu(section) {
  const { elapsedS, used } = section.cpu;
  const total = Object.values(used).reduce((sum, seconds) => sum + seconds, 0);
  const entries = Object.entries(used).sort((a, b) => b[1] - a[1]);
  const unit = section.work && section.work.count > 0 ? section.work : undefined;
  const parts = entries.map(([name, seconds]) => `${name} ${seconds.toFixed(1)}${unit ? ` (${((seconds * 1000) / unit.count).toFixed(2)} ms/${unit.unit})` : ''}`);
  const { machineBusyS, interruptsS, otherProcessesS, unattributedS, topOthers } = section.cpu;
  const capacity = elapsedS * os.cpus().length;
  const others = Object.entries(topOthers ?? {}).map(([name, seconds]) => `${name} ${seconds.toFixed(1)}`).join(', ');
  return (
    `CPU seconds over ${elapsedS.toFixed(1)} s (${os.cpus().length} cores = ${capacity.toFixed(1)} available; machine busy ${machineBusyS.toFixed(1)}: ` +
    `${total.toFixed(1)} listed here, ${interruptsS.toFixed(1)} interrupts, ${unattributedS.toFixed(1)} unattributed, ${otherProcessesS.toFixed(1)} other processes` +
    `${others ? ` [${others}]` : ''}${otherProcessesS > 0.1 * capacity ? ' — NOISY MACHINE' : ''}` +
    `${unit ? `; ${unit.count} ${unit.unit}s` : ''}): ${parts.join(', ')}`
  );
}

/** The commit measured, and uncommitted changes to the product (the build compiles the working tree). */
async function gitState() {
  try {
    const { stdout: commit } = await execFileAsync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT });
    const { stdout: status } = await execFileAsync('git', ['status', '--porcelain', '--', 'services'], { cwd: ROOT });
    return { commit: commit.trim(), dirty: status.split('\n').filter(Boolean).map((line) => line.slice(3)) };
  } catch {
    return { commit: 'unknown', dirty: [] };
  }
}

function mb(bytes) {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

/** BENCH_TRACE_RATIO (0..1) turns tracing on for the product's processes; unset, they run untraced. */
function tracingRatio() {
  const raw = process.env.BENCH_TRACE_RATIO;
  if (raw === undefined || raw === '') return undefined;
  const ratio = Number(raw);
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`BENCH_TRACE_RATIO must be between 0 and 1; got "${raw}"`);
  return ratio;
}

function tracingEnv(receiver, ratio) {
  if (!receiver) return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: String(ratio),
  };
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ArgsError) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options.help) {
    log(USAGE);
    return 0;
  }
  if (options.tracingOverhead) {
    if (options.build) await build();
    await runTracingOverhead({ benchScript: __filename, rounds: options.rounds ?? 3, durationS: options.duration, log });
    return 0;
  }
  const traceRatio = tracingRatio();
  const durationS = options.duration ?? DEFAULT_DURATION_S;
  const wanted = options.scenarios;
  const needsProduct = wanted.some((n) => n !== 6);
  // Steady bookings (1) and the seat map (3) publish nothing: another consumer on the shared queue cannot
  // change their figures, so only runs with confirms, cancels or expiries need the queue to themselves.
  const usesMessages = wanted.some((n) => n === 2 || n === 4 || n === 5 || n === 9);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-bench-'));
  const profileDir = options.profile ? path.join(workDir, 'profiles') : undefined;
  if (profileDir) fs.mkdirSync(profileDir);
  const startedAt = new Date();

  const git = await gitState();
  log(`On-sale benchmark — scenarios ${wanted.join(',')}, duration ${durationS} s${options.duration ? ' (override)' : ''}, ${os.cpus().length} CPUs, node ${process.version}`);
  log(`Product processes run from dist at LOG_LEVEL=${LOG_LEVEL} with the images' NODE_OPTIONS; logs${profileDir ? ' and CPU profiles' : ''} in ${workDir}`);
  log(`Code: commit ${git.commit}${git.dirty.length ? `, plus uncommitted changes to ${git.dirty.length} file(s) under services/ (built as they are)` : ''}`);
  if (options.build && needsProduct) await build();

  const down = [];
  for (const [name, url, port] of [['PostgreSQL', POSTGRES_URL, 5432], ['Redis', REDIS_URL, 6379], ['RabbitMQ', RABBITMQ_URL, 5672]]) {
    if ((name === 'PostgreSQL' || needsProduct) && !(await reachable(url, port))) down.push(`${name} at ${new URL(url).host}`);
  }
  if (down.length) throw new Error(`infrastructure is down: ${down.join(', ')}`);

  // The traced variant (set by --tracing-overhead): every product process exports to a receiver of ours.
  const receiver = traceRatio === undefined ? undefined : await startOtlpReceiver();
  if (receiver) log(`Tracing on: parent-based ratio ${traceRatio}, exporting OTLP/HTTP to the bench's own receiver at ${receiver.url}`);
  const processes = new ProcessGroup({ logDir: workDir, profileDir, benchDatabases: [EVENT_DB, BOOKING_DB] });
  const cleanup = async (reason, code) => {
    log(`\n${reason}; stopping every process the benchmark started…`);
    await processes.stopAll();
    process.exit(code);
  };
  process.once('SIGINT', () => void cleanup('Interrupted (SIGINT)', 130));
  process.once('SIGTERM', () => void cleanup('Terminated (SIGTERM)', 143));
  process.on('exit', () => processes.killNow());
  const hardLimit = setTimeout(() => void cleanup(`Hard time limit of ${HARD_LIMIT_MS / 60_000} min reached`, 3), HARD_LIMIT_MS);
  hardLimit.unref();

  const ctx = {
    durationMs: durationS * 1000,
    postgresUrl: POSTGRES_URL,
    redisUrl: REDIS_URL,
    processes,
    results: {},
    log,
    createDatabase: (name) => createDatabase(POSTGRES_URL, name),
    queueState: () => eventQueueState(RABBITMQ_URL),
    dropDatabase: (name) => dropDatabase(POSTGRES_URL, name),
  };
  const sections = [];
  const violations = [];
  const notes = [];
  let queueBefore;
  let queueAfter;
  let pools = [];
  const clients = [];
  try {
    if (needsProduct) {
      queueBefore = await eventQueueState(RABBITMQ_URL);
      if (queueBefore.consumers > 0 && usesMessages) {
        throw new Error(
          `${queueBefore.consumers} consumer(s) already read RabbitMQ queue ${EVENT_SERVICE_QUEUE} (an \`npm start\` running?). ` +
            'The services take no queue namespace from the environment, so the benchmark uses the real queue and must be its only consumer: stop them first.',
        );
      }
      if (queueBefore.messages > 0) log(`  note: ${queueBefore.messages} old messages wait in ${EVENT_SERVICE_QUEUE}; the bench consumer will take them (they name no bench seats and change nothing)`);

      log(`Recreating databases ${EVENT_DB} and ${BOOKING_DB}…`);
      await Promise.all([dropDatabase(POSTGRES_URL, EVENT_DB), dropDatabase(POSTGRES_URL, BOOKING_DB)]);
      const [eventPort, consumerPort, bookingPort] = [await freePort(), await freePort(), await freePort()];
      const shared = { LOG_LEVEL, RABBITMQ_URL, HOST: '127.0.0.1', NODE_ENV: 'production', ...BENCH_SECRETS, ...tracingEnv(receiver, traceRatio) };
      const eventEnv = {
        ...shared,
        DATABASE_URL: `${POSTGRES_URL}/${EVENT_DB}`,
        PORT: String(eventPort),
        METRICS_PORT: String(consumerPort),
        REDIS_URL,
        // The live seat map's Redis Streams of this run only.
        SEAT_MAP_STREAM_KEY_PREFIX: `bench:${process.pid}-${Date.now()}:seat-map-changes:`,
      };
      const bookingEnv = {
        ...shared,
        DATABASE_URL: `${POSTGRES_URL}/${BOOKING_DB}`,
        PORT: String(bookingPort),
        REDIS_URL,
        EVENT_SERVICE_URL: `http://127.0.0.1:${eventPort}`,
        // The expiry job runs as its own process (scenario 5); the API's in-process sweep stays off.
        EXPIRY_SWEEP_INTERVAL_SECONDS: '0',
        // Its own waiting-room keys and ticker lease: a test's booking API on the shared Redis cannot tick its queue.
        WAITING_ROOM_REDIS_PREFIX: `bench-waiting-room-${process.pid}`,
      };
      ctx.bookingEnv = bookingEnv;
      await Promise.all([
        processes.run('event-migrate', 'services/event-service/dist/entry-points/migrate-main.js', eventEnv, { profile: false }),
        processes.run('booking-migrate', 'services/booking-service/dist/entry-points/migrate-main.js', bookingEnv, { profile: false }),
      ]);
      // Without a scenario that publishes, no consumer: it would only take other runs' messages off the shared queue.
      log(`Starting event-api, ${usesMessages ? 'event-consumer and ' : ''}booking-api…`);
      const started = await Promise.all([
        processes.start('event-api', 'services/event-service/dist/entry-points/api-main.js', eventEnv, { readyUrl: `http://127.0.0.1:${eventPort}/ready` }),
        ...(usesMessages
          ? [processes.start('event-consumer', 'services/event-service/dist/entry-points/consumer-main.js', eventEnv, { readyUrl: `http://127.0.0.1:${consumerPort}/ready` })]
          : []),
        processes.start('booking-api', 'services/booking-service/dist/entry-points/api-main.js', bookingEnv, { readyUrl: `http://127.0.0.1:${bookingPort}/ready` }),
      ]);
      for (const record of started) record.longRunning = true;
      const queueNow = await eventQueueState(RABBITMQ_URL);
      if (usesMessages && queueNow.consumers !== 1) notes.push(`${EVENT_SERVICE_QUEUE} has ${queueNow.consumers} consumers after start (expected 1: the bench's event-consumer)`);
      log(`  pids: ${started.map((record) => `${record.name} ${record.child.pid}`).join(', ')}; ${EVENT_SERVICE_QUEUE} consumers: ${queueNow.consumers}`);

      ctx.consumerMetricsUrl = `http://127.0.0.1:${consumerPort}/metrics`;
      ctx.eventUrl = `http://127.0.0.1:${eventPort}`;
      ctx.event = createClient(ctx.eventUrl, { maxSockets: 64 });
      ctx.booking = createClient(`http://127.0.0.1:${bookingPort}`, { maxSockets: 512 });
      clients.push(ctx.event, ctx.booking);
      ctx.eventDb = await openConnection(`${POSTGRES_URL}/${EVENT_DB}`);
      ctx.bookingDb = await openConnection(`${POSTGRES_URL}/${BOOKING_DB}`);
      pools = [ctx.eventDb, ctx.bookingDb];
      // Their CPU is the benchmark's (checks, polling, VACUUM), not the product's.
      for (const connection of pools) processes.infra.label(connection.backendPid, "postgres (the bench's own queries)");

      log('Building the catalog through the public API (bulk seats)…');
      const specs = SESSION_SPECS(durationS);
      ctx.catalog = await buildCatalog(ctx.event, wanted.filter((n) => specs[n]).map((n) => specs[n]), log);
      const { rows } = await ctx.eventDb.query(`SELECT current_setting('autovacuum') AS autovacuum`);
      if (rows[0].autovacuum !== 'on') {
        // Production autovacuum would have analyzed the fresh catalog and cleaned up after each burst.
        log(`  autovacuum is ${rows[0].autovacuum} on this server: the bench runs VACUUM (ANALYZE) on its two databases before each scenario`);
        ctx.maintain = async () => {
          await ctx.eventDb.query('VACUUM (ANALYZE)');
          await ctx.bookingDb.query('VACUUM (ANALYZE)');
        };
        // Plans made while the tables were empty (prepared statements' generic plans, foreign-key checks) scan
        // them whole until an ANALYZE invalidates them; autovacuum's analyze (50 rows + 10% changed) would have
        // run during a warm-up's hundreds of holds.
        ctx.analyzeAfterWarmup = async () => {
          await Promise.all([ctx.eventDb.query('ANALYZE'), ctx.bookingDb.query('ANALYZE')]);
        };
        notes.push(`autovacuum is ${rows[0].autovacuum} on this Postgres; the bench vacuumed and analyzed its databases before each scenario (and analyzed them after scenario 1's warm-up)`);
      }
    }

    const runners = {
      1: scenarios.steadyBookings,
      2: scenarios.flashSale,
      3: scenarios.seatMapUnderLoad,
      4: scenarios.confirmToSold,
      5: scenarios.expiry,
      6: scenarios.pgbenchReference,
      7: scenarios.openLoopBookings,
      8: liveSeatMapAtCapacity,
      9: waitingRoom,
    };
    for (const number of wanted) {
      log(`\nScenario ${number}: ${SCENARIO_NAMES[number]}…`);
      processes.setScenario(SCENARIO_NAMES[number]);
      const started = Date.now();
      if (ctx.maintain) await ctx.maintain();
      const cpuBefore = processes.cpuSnapshot();
      const section = await runners[number](ctx);
      // A scenario with a setup phase measures its own window (section.cpu); otherwise the whole scenario counts.
      section.cpu ??= cpuBetween(cpuBefore, processes.cpuSnapshot());
      section.number = number;
      section.short = `${number} ${SCENARIO_NAMES[number]}`;
      section.wallMs = Date.now() - started;
      sections.push(section);
      violations.push(...section.violations);
      const crashed = processes.crashed();
      if (crashed.length) throw new Error(`${crashed.map((r) => `${r.name} exited (code ${r.exitCode})`).join(', ')} during ${SCENARIO_NAMES[number]}:\n${crashed[0].tail.join('\n')}`);
      log(formatTable(section.title, section.figures));
      for (const note of section.notes ?? []) log(`  · ${note}`);
      log(`  · ${formatCpu(section)}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    if (needsProduct) {
      queueAfter = await eventQueueState(RABBITMQ_URL);
      if (queueAfter.consumers !== 1 && usesMessages) violations.push(`${EVENT_SERVICE_QUEUE} had ${queueAfter.consumers} consumers at the end: something else consumed the bench's messages; the run is not trustworthy`);
    }
  } finally {
    for (const client of clients) client.close();
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    processes.sample();
    const memoryOfRunner = readMemory(process.pid);
    processes.memory.set('load generator (bench runner, not product)', { peakRss: memoryOfRunner?.hwm ?? 0, hwm: memoryOfRunner?.hwm ?? 0, byScenario: {} });
    await processes.stopAll();
    await receiver?.close();
  }
  if (receiver) log(`\nTraces received by the bench's OTLP receiver: ${JSON.stringify(receiver.stats())}`);

  // ---- memory, logs, profiles --------------------------------------------------------------------------
  const memoryFigures = [];
  for (const [name, entry] of processes.memory) {
    if (name.endsWith('-migrate')) continue;
    const product = !name.startsWith('load generator');
    const growth = entry.peakScenario ? `peak RSS reached during ${entry.peakScenario}` : '';
    memoryFigures.push({
      key: name,
      label: `${name} peak RSS`,
      value: mb(Math.max(entry.hwm, entry.peakRss)),
      unit: 'MB',
      target: product ? scenarios.TARGETS.rssMb : undefined,
      note: growth,
    });
  }
  if (memoryFigures.length) {
    const section = { key: 'memory', short: 'memory', title: 'Memory — peak RSS per process (VmHWM; VmRSS sampled every 250 ms tells in which scenario it was reached)', figures: memoryFigures, notes: [], violations: [] };
    sections.push(section);
    log(`\n${formatTable(section.title, section.figures)}`);
  }
  const logSummary = {};
  for (const record of processes.children) {
    const top = [...record.messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    logSummary[record.name] = { lines: record.lines, levels: record.levels, top: Object.fromEntries(top) };
  }
  const noisy = Object.entries(logSummary).filter(([, summary]) => summary.lines > 0);
  if (noisy.length) {
    log(`\nLog lines at ${LOG_LEVEL} and above (full logs in ${workDir}):`);
    for (const [name, summary] of noisy) log(`  ${name}: ${summary.lines} lines ${JSON.stringify(summary.levels)}; top ${JSON.stringify(summary.top)}`);
  }

  let profiles;
  if (profileDir) {
    profiles = {};
    for (const file of fs.readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'))) {
      const summary = summarizeProfile(JSON.parse(fs.readFileSync(path.join(profileDir, file), 'utf8')), { top: 20 });
      const name = file.split('.')[0];
      profiles[name] = { file: path.join(profileDir, file), ...summary };
      log(`\nCPU profile of ${name} (${file}): busy ${round(summary.busyMs / 1000)} s of ${round(summary.totalMs / 1000)} s sampled, GC ${round(summary.gcMs / 1000)} s`);
      log('  top self time:');
      for (const fn of summary.functions) log(`    ${String(fn.pct).padStart(5)}%  ${String(fn.selfMs).padStart(9)} ms  ${fn.name}  ${fn.where}`);
      log('  by module:');
      for (const module of summary.modules.slice(0, 12)) log(`    ${String(module.pct).padStart(5)}%  ${String(module.selfMs).padStart(9)} ms  ${module.module}`);
      log('  by responsible package (native code and node internals charged to the package or product file that called them):');
      for (const caller of summary.callers.slice(0, 12)) log(`    ${String(caller.pct).padStart(5)}%  ${String(caller.selfMs).padStart(9)} ms  ${caller.module}`);
    }
  }

  // ---- verdict and JSON --------------------------------------------------------------------------------
  const missed = misses(sections);
  log('\nSummary');
  log(`  targets met: ${sections.flatMap((s) => s.figures).filter((f) => verdict(f) === 'PASS').length}, missed: ${missed.length}`);
  for (const miss of missed) log(`    MISS ${miss}`);
  if (violations.length) {
    log(`\n!!! ${violations.length} CORRECTNESS VIOLATION(S) !!!`);
    for (const violation of violations) log(`  ✗ ${violation}`);
  } else {
    const checked = [
      wanted.includes(2) && 'no seat held or sold twice and no 5xx in the flash sale',
      wanted.includes(4) && 'every confirmed seat sold',
      wanted.includes(5) && 'every expired hold released',
    ].filter(Boolean);
    log(`  correctness: no violations${checked.length ? ` (${checked.join('; ')})` : ''}`);
  }
  for (const note of notes) log(`  note: ${note}`);

  if (options.out) {
    const report = {
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, memory_mb: Math.round(os.totalmem() / 1048576), node: process.version, load_average_at_end: os.loadavg() },
      options: { scenarios: wanted, duration_s: durationS, profile: options.profile },
      tracing: receiver ? { sampler_ratio: traceRatio, received: receiver.stats() } : { sampler_ratio: null },
      code: { commit: git.commit, uncommitted_service_files: git.dirty },
      log_level: LOG_LEVEL,
      databases: { event: EVENT_DB, booking: BOOKING_DB },
      rabbitmq: { queue: EVENT_SERVICE_QUEUE, before: queueBefore, after: queueAfter },
      scenarios: Object.fromEntries(
        sections.map((section) => [
          section.key,
          {
            title: section.title,
            figures: Object.fromEntries(section.figures.map((f) => [f.key, { label: f.label, value: Number.isFinite(f.value) ? f.value : null, unit: f.unit ?? null, target: f.target ?? null, result: verdict(f) || null }])),
            details: section.details ?? {},
            notes: section.notes ?? [],
            wall_ms: section.wallMs,
            cpu_seconds: section.cpu
              ? {
                  elapsed_s: round(section.cpu.elapsedS, 2),
                  machine_busy_s: round(section.cpu.machineBusyS, 2),
                  interrupts_s: round(section.cpu.interruptsS, 2),
                  unattributed_s: round(section.cpu.unattributedS, 2),
                  other_processes_s: round(section.cpu.otherProcessesS, 2),
                  top_other_processes: Object.fromEntries(Object.entries(section.cpu.topOthers ?? {}).map(([k, v]) => [k, round(v, 2)])),
                  ...Object.fromEntries(Object.entries(section.cpu.used).map(([k, v]) => [k, round(v, 2)])),
                }
              : undefined,
            work: section.work,
          },
        ]),
      ),
      memory: Object.fromEntries(
        [...processes.memory.entries()].map(([name, entry]) => [
          name,
          {
            peak_rss_mb: mb(Math.max(entry.hwm, entry.peakRss)),
            peak_reached_during: entry.peakScenario ?? null,
            max_sampled_rss_mb_by_scenario: Object.fromEntries(Object.entries(entry.byScenario).map(([scenario, bytes]) => [scenario, mb(bytes)])),
          },
        ]),
      ),
      violations,
      missed_targets: missed,
      logs: logSummary,
      profiles,
      work_dir: workDir,
    };
    fs.writeFileSync(path.resolve(process.cwd(), options.out), `${JSON.stringify(report, null, 2)}\n`);
    log(`  JSON written to ${options.out}`);
  }
  if (violations.length) return 1;
  if (options.strict && missed.length) return 1;
  return 0;
}

main()
  .then((code) => process.exit(code))
  .catch((error) => {
    console.error(`\nbench failed: ${error?.stack ?? error}`);
    process.exit(2);
  });
