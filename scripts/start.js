#!/usr/bin/env node
/**
 * `npm start`: the whole product on one machine, against the local Postgres, Redis and RabbitMQ.
 * Checks the infrastructure, creates and migrates both databases, seeds the demo data of docs/user-flow.md,
 * starts every process (event API, event consumer, booking API with its outbox relay and expiry sweep, and the
 * web app at :8080 with its same-origin proxy to both APIs),
 * waits until they are ready and prints where to go. Ctrl-C stops everything cleanly.
 *
 * Runs the compiled code (`npm start` builds first). LOG_FORMAT=json keeps the raw JSON log lines.
 */
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const { reachable, onLines } = require('./lib/local-processes');

const root = path.resolve(__dirname, '..');
const env = process.env;
const POSTGRES_URL = env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
const eventDatabaseUrl = env.EVENT_DATABASE_URL ?? `${POSTGRES_URL}/event_service`;
const bookingDatabaseUrl = env.BOOKING_DATABASE_URL ?? `${POSTGRES_URL}/booking_service`;
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// RABBITMQ_HOST/PORT/USER/PASSWORD/VHOST build the URL when RABBITMQ_URL is unset, exactly as the services do.
const { withBrokerUrlFromParts } = require(path.join(root, 'services', 'platform', 'dist', 'config'));
const rabbitUrl = withBrokerUrlFromParts(env).RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const eventPort = env.EVENT_PORT ?? '8000';
const bookingPort = env.BOOKING_PORT ?? '8001';
const consumerMetricsPort = env.CONSUMER_METRICS_PORT ?? '9101';
const webPort = env.WEB_PORT ?? '8080';
const rawLogs = env.LOG_FORMAT === 'json';

const shared = { LOG_LEVEL: env.LOG_LEVEL ?? 'info', RABBITMQ_URL: rabbitUrl };
const eventEnv = {
  ...shared,
  DATABASE_URL: eventDatabaseUrl,
  PORT: eventPort,
  METRICS_PORT: consumerMetricsPort,
  // The live seat map's change streams (both event processes publish; the API also reads).
  REDIS_URL: redisUrl,
  BOOKING_SERVICE_URL: env.BOOKING_SERVICE_URL ?? `http://127.0.0.1:${bookingPort}`,
};
const bookingEnv = {
  ...shared,
  DATABASE_URL: bookingDatabaseUrl,
  PORT: bookingPort,
  REDIS_URL: redisUrl,
  EVENT_SERVICE_URL: env.EVENT_SERVICE_URL ?? `http://127.0.0.1:${eventPort}`,
};

const webEnv = {
  LOG_LEVEL: shared.LOG_LEVEL,
  PORT: webPort,
  EVENT_API_URL: `http://127.0.0.1:${eventPort}`,
  BOOKING_API_URL: `http://127.0.0.1:${bookingPort}`,
};

const processes = [
  { name: 'event-api', script: 'services/event-service/dist/entry-points/api-main.js', env: eventEnv },
  { name: 'event-consumer', script: 'services/event-service/dist/entry-points/consumer-main.js', env: eventEnv },
  { name: 'booking-api', script: 'services/booking-service/dist/entry-points/api-main.js', env: bookingEnv },
  { name: 'web-app', script: 'services/web-app/dist/server/main.js', env: webEnv },
];

const COLORS = { 'web-app': 34, 'event-api': 36, 'event-consumer': 35, 'booking-api': 33, 'event-migrate': 32, 'booking-migrate': 32 };
const color = (name, text) => (process.stdout.isTTY ? `\x1b[${COLORS[name] ?? 37}m${text}\x1b[0m` : text);

/** One compact, readable line per JSON log record; anything else passes through. */
function formatLine(name, line) {
  const prefix = color(name, `[${name}]`.padEnd(18));
  if (rawLogs || !line.startsWith('{')) return `${prefix} ${line}`;
  try {
    const { level, time, msg, service: _service, request_id: _requestId, ...rest } = JSON.parse(line);
    const details = Object.entries(rest)
      .filter(([key]) => !['pid', 'hostname', 'trace_id', 'span_id'].includes(key))
      .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : value}`)
      .join(' ');
    const clock = typeof time === 'string' ? time.slice(11, 23) : '';
    return `${prefix} ${clock} ${String(level).toUpperCase().padEnd(5)} ${msg ?? ''} ${details}`.trimEnd();
  } catch {
    return `${prefix} ${line}`;
  }
}

function pipeLines(name, stream, out) {
  onLines(stream, (line) => line.trim() && out.write(`${formatLine(name, line)}\n`));
}

function run(name, script, extraEnv) {
  const child = spawn(process.execPath, [path.join(root, script)], {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pipeLines(name, child.stdout, process.stdout);
  pipeLines(name, child.stderr, process.stderr);
  return child;
}

function runToCompletion(name, script, extraEnv) {
  return new Promise((resolve, reject) => {
    const child = run(name, script, extraEnv);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${name} exited with code ${code}`))));
  });
}

async function checkInfrastructure() {
  const checks = [
    ['PostgreSQL', POSTGRES_URL, 5432, 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'],
    ['Redis', redisUrl, 6379, 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no'],
    ['RabbitMQ', rabbitUrl, 5672, 'rabbitmq-server -detached'],
  ];
  const missing = [];
  for (const [name, url, port, hint] of checks) {
    if (!(await reachable(url, port))) missing.push(`  ${name} is not reachable at ${new URL(url).host} — start it with: ${hint}`);
  }
  if (missing.length) {
    console.error(`Cannot start: infrastructure is down.\n${missing.join('\n')}\n  With Docker instead: docker compose up -d --wait`);
    process.exit(1);
  }
}

async function waitUntilReady(url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} was not ready within ${timeoutMs / 1000}s`);
}

async function main() {
  await checkInfrastructure();
  console.log('Migrating and seeding the databases…');
  await Promise.all([
    runToCompletion('event-migrate', 'services/event-service/dist/entry-points/migrate-main.js', { ...eventEnv, SEED_DEMO_DATA: 'true' }),
    runToCompletion('booking-migrate', 'services/booking-service/dist/entry-points/migrate-main.js', { ...bookingEnv, SEED_DEMO_DATA: 'true' }),
  ]);

  const children = processes.map((spec) => ({ ...spec, child: run(spec.name, spec.script, spec.env) }));
  let stopping = false;
  const stopAll = (exitCode) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping every process…');
    const alive = children.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    let remaining = alive.length;
    if (remaining === 0) process.exit(exitCode);
    const force = setTimeout(() => {
      for (const { child } of alive) child.kill('SIGKILL');
      process.exit(exitCode || 1);
    }, 15_000);
    for (const { child } of alive) {
      child.once('exit', () => {
        remaining -= 1;
        if (remaining === 0) {
          clearTimeout(force);
          console.log('All processes stopped.');
          process.exit(exitCode);
        }
      });
      child.kill('SIGTERM');
    }
  };
  for (const { name, child } of children) {
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(`${name} exited unexpectedly (code ${code}, signal ${signal}); stopping the others.`);
      stopAll(1);
    });
  }
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));

  await Promise.all([
    waitUntilReady(`http://127.0.0.1:${eventPort}/ready`),
    waitUntilReady(`http://127.0.0.1:${bookingPort}/ready`),
    waitUntilReady(`http://127.0.0.1:${consumerMetricsPort}/ready`),
    waitUntilReady(`http://127.0.0.1:${webPort}/health`),
  ]);
  console.log(`
Ticketing is running.
  Box office web app          http://localhost:${webPort}
  Event Service   Swagger UI  http://localhost:${eventPort}/docs
  Booking Service Swagger UI  http://localhost:${bookingPort}/docs
  Demo seat map               http://localhost:${eventPort}/api/v1/sessions/b623792d-f564-44c4-a6cd-255b83f9a4db/seat-map
  Metrics                     :${eventPort}/metrics  :${bookingPort}/metrics  :${consumerMetricsPort}/metrics (consumer)
Follow docs/user-flow.md with X-User-ID 123e4567-e89b-12d3-a456-426614174000. Ctrl-C stops everything.
`);
}

main().catch((error) => {
  console.error(`npm start failed: ${error.message}`);
  process.exit(1);
});
