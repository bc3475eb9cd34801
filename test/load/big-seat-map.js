#!/usr/bin/env node
'use strict';
/**
 * Big seat maps (issue 10 item 6): a 200,000-seat session read by six clients at once must keep the event
 * API inside the chart's memory limit and its holds within 2x their idle latency.
 *
 *   node test/load/big-seat-map.js [--seats 200000] [--readers 6] [--holds 300] [--encoding gzip|identity|both] [--no-build] [--keep-database]
 *
 * Builds the product (tsc -b), recreates the database event_service_bigmap, starts the event API from dist
 * the way the image runs it (the images' NODE_OPTIONS, LOG_LEVEL=warn, default SEAT_MAP_CACHE_MS), creates a
 * hall and a session of --seats seats through the public API (bulk seats), then measures one hold at a time
 * through the internal API: first idle, then while --readers clients (in a worker thread of their own) read the
 * whole map in a loop (no If-None-Match, so every answer is a full map). Prints peak RSS (sampled every 250 ms, and the kernel's
 * VmHWM) and the hold latencies. Figures only: it asserts nothing about time.
 */
const { execFileSync } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { gunzipSync } = require('node:zlib');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { ProcessGroup, freePort, readMemory, ROOT } = require('./lib/processes');
const { createClient, expectStatus } = require('./lib/http-client');
const { dropDatabase, createDatabase } = require('./lib/infra');
const { percentile, round } = require('./lib/stats');

const POSTGRES_URL = (process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
const DATABASE = 'event_service_bigmap';
const CHART_MEMORY_LIMIT_MB = 384; // charts/ticketing/values.yaml eventApi.resources.limits.memory (384Mi)
const SEATS_PER_ROW = 500;
const BULK_LIMIT = 100_000;

function parseArgs(argv) {
  const options = { seats: 200_000, readers: 6, holds: 300, encoding: 'both', build: true, keep: false };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === '--no-build') options.build = false;
    else if (flag === '--keep-database') options.keep = true;
    else if (['--seats', '--readers', '--holds'].includes(flag)) options[flag.slice(2)] = Number(argv[++i]);
    else if (flag === '--encoding') options.encoding = argv[++i];
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!['gzip', 'identity', 'both'].includes(options.encoding)) throw new Error('--encoding is gzip, identity or both');
  return options;
}

const mb = (bytes) => round(bytes / 1024 / 1024, 1);
const log = (line) => process.stdout.write(`${line}\n`);

async function buildBigSession(client, seats) {
  const ok = async (method, urlPath, body) => expectStatus(`${method} ${urlPath}`, await client.json(method, urlPath, { body }), 201);
  const organizer = await ok('POST', '/api/v1/organizers', { name: 'Big Map Organizer' });
  const location = await ok('POST', '/api/v1/locations', { name: 'Stadium', city: 'Bern', timezone: 'Europe/Zurich' });
  const hall = await ok('POST', `/api/v1/locations/${location.id}/halls`, { name: 'Arena', capacity: seats });
  const all = Array.from({ length: seats }, (_, i) => ({ row_number: `R${Math.floor(i / SEATS_PER_ROW) + 1}`, seat_number: (i % SEATS_PER_ROW) + 1 }));
  for (let start = 0; start < all.length; start += BULK_LIMIT) {
    await ok('POST', `/api/v1/halls/${hall.id}/seats/bulk`, { seats: all.slice(start, start + BULK_LIMIT) });
  }
  const event = await ok('POST', '/api/v1/events', { title: 'Big Map', event_type: 'concert', organizer_id: organizer.id });
  const startTime = Date.now() + 30 * 86_400_000;
  return ok('POST', '/api/v1/sessions', {
    event_id: event.id,
    hall_id: hall.id,
    start_time: new Date(startTime).toISOString(),
    end_time: new Date(startTime + 7_200_000).toISOString(),
    base_price: 40,
  });
}

/** One hold at a time, each of a fresh seat; resolves to the latencies in ms. */
async function holdOneByOne(client, sessionId, seatIds, count) {
  const latencies = [];
  for (let i = 0; i < count; i += 1) {
    const response = await client.request('POST', `/api/internal/sessions/${sessionId}/seats/reserve`, {
      body: { reservation_id: randomUUID(), session_seat_ids: [seatIds.pop()], reserved_until: new Date(Date.now() + 600_000).toISOString() },
    });
    if (response.status !== 200) throw new Error(`hold: HTTP ${response.status} ${response.error ?? response.body.toString('utf8').slice(0, 200)}`);
    latencies.push(response.ms);
  }
  return latencies;
}

/**
 * `readers` clients reading the whole map in a loop until `until` resolves. They run in a worker thread, so
 * receiving tens of MB per round does not delay the measuring thread's hold timings.
 */
async function readWhile(url, sessionId, readers, encoding, until) {
  const worker = new Worker(__filename, { workerData: { url, sessionId, readers, encoding } });
  const report = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let result;
  try {
    result = await until;
  } finally {
    worker.postMessage('stop');
  }
  const { maps, error } = await report;
  await worker.terminate();
  if (error) throw new Error(error);
  return { result, maps };
}

/** The worker side of readWhile. */
async function readerThread({ url, sessionId, readers, encoding }) {
  const client = createClient(url, { maxSockets: readers, timeoutMs: 120_000 });
  let stop = false;
  parentPort.once('message', () => (stop = true));
  const maps = [];
  const loop = async () => {
    while (!stop) {
      const response = await client.request('GET', `/api/v1/sessions/${sessionId}/seat-map`, {
        headers: { 'accept-encoding': encoding },
        discardBody: true,
      });
      if (response.status !== 200) throw new Error(`seat map: HTTP ${response.status} ${response.error ?? ''}`);
      maps.push({ ms: response.ms, bytes: response.bytes });
    }
  };
  try {
    await Promise.all(Array.from({ length: readers }, loop));
    parentPort.postMessage({ maps });
  } catch (error) {
    parentPort.postMessage({ maps, error: String(error) });
  }
  client.close();
}

const summary = (values) => ({ p50: round(percentile(values, 50), 1), p95: round(percentile(values, 95), 1), max: round(Math.max(...values), 1) });

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ticketing-bigmap-'));
  if (options.build) {
    log('Building (tsc -b)…');
    execFileSync('npx', ['tsc', '-b', 'services/platform', 'services/event-service'], { cwd: ROOT, stdio: 'inherit' });
  }
  await createDatabase(POSTGRES_URL, DATABASE);
  const databaseUrl = `${POSTGRES_URL}/${DATABASE}`;

  const processes = new ProcessGroup({ logDir: workDir, benchDatabases: [DATABASE] });
  process.on('exit', () => processes.killNow());
  try {
    const migrate = processes.spawn('event-migrate', 'services/event-service/dist/entry-points/migrate-main.js', { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' }, { profile: false });
    const { code } = await migrate.exitPromise;
    if (code !== 0) throw new Error(`migration failed:\n${migrate.tail.join('\n')}`);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const api = await processes.start(
      'event-api',
      'services/event-service/dist/entry-points/api-main.js',
      { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
      { readyUrl: `${url}/health` },
    );
    const client = createClient(url, { maxSockets: options.readers + 4, timeoutMs: 120_000 });

    log(`Creating a ${options.seats}-seat hall and session…`);
    const session = await buildBigSession(client, options.seats);
    const first = await client.request('GET', `/api/v1/sessions/${session.id}/seat-map`, { headers: { 'accept-encoding': 'gzip' } });
    const plainBytes = gunzipSync(first.body);
    const seatIds = JSON.parse(plainBytes.toString('utf8')).seats.map((seat) => seat.session_seat_id);
    log(`Map: ${mb(plainBytes.length)} MB JSON, ${mb(first.body.length)} MB gzip, first render ${round(first.ms, 0)} ms`);

    processes.setScenario('idle');
    const settledRss = readMemory(api.child.pid).rss;
    const idle = await holdOneByOne(client, session.id, seatIds, options.holds);
    const idleRss = processes.memory.get('event-api').byScenario.idle;

    const phases = options.encoding === 'both' ? ['gzip', 'identity'] : [options.encoding];
    const results = [];
    for (const encoding of phases) {
      const name = `${options.readers} readers (${encoding})`;
      processes.setScenario(name);
      const during = await readWhile(url, session.id, options.readers, encoding, holdOneByOne(client, session.id, seatIds, options.holds));
      results.push({ name, holds: summary(during.result), maps: during.maps, peakRss: processes.memory.get('event-api').byScenario[name] });
    }
    processes.sample();
    const hwm = processes.memory.get('event-api').hwm;

    const idleHolds = summary(idle);
    log('');
    log(`Event API with NODE_OPTIONS from the images; chart memory limit ${CHART_MEMORY_LIMIT_MB} MiB; ${os.cpus().length} CPUs shared with whatever else runs`);
    log(`RSS after setup ${mb(settledRss)} MB; idle peak ${mb(idleRss)} MB`);
    log(`Holds idle: p50 ${idleHolds.p50} ms, p95 ${idleHolds.p95} ms, max ${idleHolds.max} ms (${options.holds} one at a time)`);
    for (const result of results) {
      const mapMs = summary(result.maps.map((map) => map.ms));
      log(
        `${result.name}: peak RSS ${mb(result.peakRss)} MB; holds p50 ${result.holds.p50} ms (${round(result.holds.p50 / idleHolds.p50, 2)}x idle), ` +
          `p95 ${result.holds.p95} ms, max ${result.holds.max} ms; ${result.maps.length} maps served, map p50 ${mapMs.p50} ms, ` +
          `${mb(result.maps[0]?.bytes ?? 0)} MB each on the wire`,
      );
    }
    log(`Peak RSS over the run (VmHWM): ${mb(hwm)} MB — ${hwm <= CHART_MEMORY_LIMIT_MB * 1024 * 1024 ? 'inside' : 'ABOVE'} the ${CHART_MEMORY_LIMIT_MB} MiB limit`);
    client.close();
  } finally {
    await processes.stopAll();
    if (!options.keep) await dropDatabase(POSTGRES_URL, DATABASE).catch(() => undefined);
  }
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(2);
    },
  );
} else {
  void readerThread(workerData);
}
