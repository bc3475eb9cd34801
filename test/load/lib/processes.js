'use strict';
/**
 * The product's processes, started from the compiled dist like `npm start` does, one node process each.
 * Captures their output to log files, samples their memory (/proc/<pid>/status: VmRSS every 250 ms and
 * VmHWM, the kernel's own peak), and stops every one of them when the benchmark ends for any reason.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { onLines } = require('../../../scripts/lib/local-processes');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const PARENT_WATCH = path.join(__dirname, 'parent-watch.js');

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM of a live process in bytes, or undefined once it is gone. */
function readMemory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used, or undefined once it is gone. */
function readCpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU of the infrastructure, per kind. Postgres backends serving the benchmark's databases are told apart
 * from the rest of Postgres (server processes, other databases) by their process title. Every pid ever seen
 * keeps its last reading, so a backend that exits between snapshots is not lost.
 */
class InfraCpu {
  constructor(benchDatabases, ownPids) {
    this.benchDatabases = benchDatabases;
    this.ownPids = ownPids;
    this.kinds = new Map(); // pid -> kind
    this.last = new Map(); // pid -> cpu seconds
  }

  /** Names a known process (e.g. the load generator's own Postgres backends). */
  label(pid, kind) {
    this.kinds.set(String(pid), kind);
  }

  kindOf(pid, comm) {
    if (this.kinds.has(pid)) return this.kinds.get(pid);
    let kind;
    if (comm === 'postgres') {
      let title = '';
      try {
        title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        // gone
      }
      kind = this.benchDatabases.some((name) => title.includes(` ${name} `)) ? 'postgres (bench databases)' : 'postgres (rest of the server)';
    } else if (comm === 'redis-server') kind = 'redis';
    else if (comm === 'beam.smp') kind = 'rabbitmq';
    else if (comm === 'pgbench') kind = 'pgbench client';
    else if (Number(pid) !== process.pid && !this.ownPids.has(Number(pid))) kind = `other: ${comm}`;
    this.kinds.set(pid, kind);
    return kind;
  }

  scan() {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      if (this.kinds.has(entry) && this.kinds.get(entry) === undefined) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const kind = this.kindOf(entry, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
        if (!kind) continue;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        this.last.set(entry, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
      } catch {
        // gone meanwhile
      }
    }
  }

  totals() {
    const totals = {};
    for (const [pid, seconds] of this.last) {
      const kind = this.kinds.get(pid);
      totals[kind] = (totals[kind] ?? 0) + seconds;
    }
    return totals;
  }
}

/** Busy CPU seconds of the whole machine (every process, ours or not) and its interrupt share, from /proc/stat. */
function machineCpu() {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = fields;
  return { busy: (user + nice + system + irq + softirq) / CLOCK_TICKS, interrupts: (irq + softirq) / CLOCK_TICKS };
}

/** The NODE_OPTIONS the product's images set (docker/*.Dockerfile ENV), so the processes run as deployed. */
function imageNodeOptions() {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'docker', 'booking-service.Dockerfile'), 'utf8');
  return dockerfile.match(/^\s*(?:ENV\s+)?NODE_OPTIONS=("[^"]*"|\S+)/m)?.[1].replace(/^"|"$/g, '');
}

/** Read once: every product process of a run gets the same options. */
const IMAGE_NODE_OPTIONS = imageNodeOptions();

/**
 * Environment for a child: ours without tracing/ports/URLs that could point it elsewhere, the images'
 * NODE_OPTIONS, plus `extra`.
 */
function childEnv(extra) {
  const env = IMAGE_NODE_OPTIONS ? { NODE_OPTIONS: IMAGE_NODE_OPTIONS } : {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(OTEL_|DATABASE_URL$|PORT$|METRICS_PORT$|REDIS_URL$|RABBITMQ_URL$|EVENT_SERVICE_URL$|INTERNAL_API_TOKEN$|NODE_OPTIONS$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

class ProcessGroup {
  /**
   * @param {{ logDir: string, profileDir?: string }} options profileDir turns on --cpu-prof for long-running
   *   product processes (one .cpuprofile per process, written when it exits).
   */
  constructor({ logDir, profileDir, benchDatabases = [] }) {
    this.ownPids = new Set();
    this.infra = new InfraCpu(benchDatabases, this.ownPids);
    this.infraSampledAt = 0;
    this.logDir = logDir;
    this.profileDir = profileDir;
    this.children = [];
    this.memory = new Map(); // name -> { peakRss, hwm, scenarioPeak: Map }
    this.scenario = 'setup (start, catalog build)';
    this.stopping = undefined;
    this.sampler = setInterval(() => this.sample(), 250);
    this.sampler.unref();
  }

  /** Tags subsequent memory samples with a scenario name (peaks are also kept per scenario). */
  setScenario(name) {
    this.scenario = name;
  }

  sample() {
    for (const record of this.children) {
      if (record.exited) continue;
      const memory = readMemory(record.child.pid);
      if (memory) this.note(record.name, memory);
      record.lastCpu = readCpuSeconds(record.child.pid) ?? record.lastCpu;
    }
    if (performance.now() - this.infraSampledAt >= 1_000) {
      this.infraSampledAt = performance.now();
      this.infra.scan();
    }
  }

  note(name, { rss, hwm }) {
    const entry = this.memory.get(name) ?? { peakRss: 0, hwm: 0, byScenario: {} };
    // V8 keeps the heap it grew, so later scenarios inherit a peak: remember where it was reached.
    if ((rss ?? 0) > entry.peakRss) entry.peakScenario = this.scenario;
    entry.peakRss = Math.max(entry.peakRss, rss ?? 0);
    entry.hwm = Math.max(entry.hwm, hwm ?? 0);
    entry.byScenario[this.scenario] = Math.max(entry.byScenario[this.scenario] ?? 0, rss ?? 0);
    this.memory.set(name, entry);
  }

  /**
   * Starts `node [--cpu-prof …] -r parent-watch.js <script>`; resolves with the record once `readyUrl`
   * answers 2xx (or right away without one). Fails if the process exits first.
   */
  async start(name, script, env, { readyUrl, profile = true, readyTimeoutMs = 60_000 } = {}) {
    const record = this.spawn(name, script, env, { profile });
    if (readyUrl) await this.waitReady(record, readyUrl, readyTimeoutMs);
    return record;
  }

  spawn(name, script, env, { profile = true } = {}) {
    if (this.stopping) throw new Error('the benchmark is stopping');
    const args = [];
    if (this.profileDir && profile) args.push('--cpu-prof', '--cpu-prof-dir', this.profileDir, '--cpu-prof-name', `${name}.${Date.now()}.cpuprofile`);
    args.push('-r', PARENT_WATCH, path.join(ROOT, script));
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.ownPids.add(child.pid);
    const log = fs.createWriteStream(path.join(this.logDir, `${name}.log`), { flags: 'a' });
    const record = { name, child, log, tail: [], lines: 0, levels: {}, messages: new Map(), exited: false, exitCode: undefined, startedAt: performance.now() };
    const onLine = (line) => {
      if (!line.trim()) return;
      record.lines += 1;
      log.write(`${line}\n`);
      record.tail.push(line);
      if (record.tail.length > 40) record.tail.shift();
      try {
        const parsed = JSON.parse(line);
        record.levels[parsed.level] = (record.levels[parsed.level] ?? 0) + 1;
        const key = `${parsed.level}: ${parsed.msg}`;
        record.messages.set(key, (record.messages.get(key) ?? 0) + 1);
      } catch {
        record.levels.text = (record.levels.text ?? 0) + 1;
      }
    };
    for (const stream of [child.stdout, child.stderr]) onLines(stream, onLine);
    record.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const memory = readMemory(child.pid);
        if (memory) this.note(name, memory);
        record.exited = true;
        record.exitCode = code;
        record.signal = signal;
        record.endedAt = performance.now();
        resolve({ code, signal });
        setImmediate(() => log.end());
      });
    });
    this.children.push(record);
    this.sample();
    return record;
  }

  async waitReady(record, url, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (record.exited) throw new Error(`${record.name} exited with code ${record.exitCode} before it was ready:\n${record.tail.join('\n')}`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    throw new Error(`${record.name} was not ready at ${url} within ${timeoutMs / 1000} s:\n${record.tail.join('\n')}`);
  }

  /**
   * CPU seconds so far: each product process started (exited ones keep their last reading), the infrastructure
   * processes by kind, and this load generator. Subtract two snapshots to get a scenario's usage.
   */
  cpuSnapshot() {
    this.infra.scan();
    const snapshot = { at: performance.now(), machine: machineCpu(), processes: {}, infra: this.infra.totals(), loadGenerator: (() => { const usage = process.cpuUsage(); return (usage.user + usage.system) / 1e6; })() };
    for (const record of this.children) {
      if (!record.exited) record.lastCpu = readCpuSeconds(record.child.pid) ?? record.lastCpu;
      snapshot.processes[record.name] = (snapshot.processes[record.name] ?? 0) + (record.lastCpu ?? 0);
    }
    return snapshot;
  }

  /** Runs a one-shot process (migration, job) to its end; rejects on a non-zero exit. */
  async run(name, script, env, options) {
    const record = this.spawn(name, script, env, options);
    const { code, signal } = await record.exitPromise;
    if (code !== 0) throw new Error(`${name} exited with code ${code}${signal ? ` (${signal})` : ''}:\n${record.tail.join('\n')}`);
    return record;
  }

  /** Long-running processes that died on their own (reported as a failed run). */
  crashed() {
    return this.children.filter((record) => record.longRunning && record.exited && !this.stopping);
  }

  /** SIGTERM to every live child, SIGKILL after `graceMs`; resolves when all have exited. */
  stopAll(graceMs = 12_000) {
    this.stopping ??= (async () => {
      clearInterval(this.sampler);
      const alive = this.children.filter((record) => !record.exited);
      for (const record of alive) record.child.kill('SIGTERM');
      const force = setTimeout(() => {
        for (const record of alive) if (!record.exited) record.child.kill('SIGKILL');
      }, graceMs);
      await Promise.all(alive.map((record) => record.exitPromise));
      clearTimeout(force);
    })();
    return this.stopping;
  }

  /** Last resort from process.on('exit'): synchronous SIGKILL of anything still running. */
  killNow() {
    for (const record of this.children) {
      if (!record.exited) {
        try {
          record.child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }
}

/** Per-process CPU seconds between two snapshots (only processes that used any), plus the elapsed seconds. */
function cpuBetween(before, after) {
  const used = {};
  for (const [name, seconds] of Object.entries(after.processes)) {
    const delta = seconds - (before.processes[name] ?? 0);
    if (delta > 0.005) used[name] = delta;
  }
  const others = {};
  for (const [kind, seconds] of Object.entries(after.infra)) {
    const delta = seconds - (before.infra[kind] ?? 0);
    if (delta <= 0.005) continue;
    if (kind.startsWith('other: ')) others[kind.slice(7)] = delta;
    else used[kind] = delta;
  }
  used['load generator'] = after.loadGenerator - before.loadGenerator;
  const accounted = Object.values(used).reduce((sum, seconds) => sum + seconds, 0);
  const machine = after.machine.busy - before.machine.busy;
  const interrupts = after.machine.interrupts - before.machine.interrupts;
  const otherS = Object.values(others).reduce((sum, seconds) => sum + seconds, 0);
  const topOthers = Object.fromEntries(Object.entries(others).sort((a, b) => b[1] - a[1]).slice(0, 4));
  return {
    elapsedS: (after.at - before.at) / 1000,
    used,
    machineBusyS: machine,
    interruptsS: interrupts,
    otherProcessesS: otherS,
    // Kernel interrupt work and processes too short-lived for the 1 s scan.
    unattributedS: Math.max(0, machine - accounted - otherS - interrupts),
    topOthers,
  };
}

module.exports = { ProcessGroup, freePort, readMemory, readCpuSeconds, cpuBetween, ROOT };
