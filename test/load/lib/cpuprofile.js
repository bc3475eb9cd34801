'use strict';
/**
 * Summaries of V8 .cpuprofile files (node --cpu-prof): self time per function and per module (npm package,
 * or the product's own source file), busy time versus idle. Pure; unit-tested in test/load/cpuprofile.test.ts.
 */

const SPECIAL = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/** "node_modules/pg/lib/client.js" -> "pg"; product files keep their path from services/; node internals "node:…". */
function moduleOf(url) {
  if (!url) return '(native/V8)';
  const clean = url.replace(/^file:\/\//, '');
  const nodeModules = clean.lastIndexOf('node_modules/');
  if (nodeModules !== -1) {
    const parts = clean.slice(nodeModules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (clean.startsWith('node:')) return clean;
  const services = clean.indexOf('services/');
  return services !== -1 ? clean.slice(services) : clean;
}

function shortUrl(url) {
  const module = moduleOf(url);
  if (!url || module.startsWith('node:') || module.startsWith('services/') || module.startsWith('(')) return module;
  const clean = url.replace(/^file:\/\//, '');
  return clean.slice(clean.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/**
 * The npm package or product file responsible for a sample: the sample's own frame, or for native code and
 * node internals (a socket write, a Buffer copy) the nearest ancestor frame that is a package or product file.
 */
function nearestPackage(id, nodes, parents) {
  for (let current = id; current !== undefined; current = parents.get(current)) {
    const module = moduleOf(nodes.get(current).callFrame.url);
    if (!module.startsWith('node:') && !module.startsWith('(')) return module;
  }
  return moduleOf(nodes.get(id).callFrame.url);
}

/**
 * @returns {{ totalMs, idleMs, gcMs, programMs, busyMs, functions: Array<{name, where, module, selfMs, pct}>,
 *   modules: Array<{module, selfMs, pct}>, callers: Array<{module, selfMs, pct}> }} pct is a share of busy time
 *   (everything but idle); `callers` charges native and node-internal time to the package that caused it.
 */
function summarizeProfile(profile, { top = 15 } = {}) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const selfUs = new Map();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time from sample i-1 to sample i; like DevTools, sample i owns the time until the
  // next sample (the last one until endTime, when the profile has one).
  let stamp = profile.startTime ?? 0;
  const stamps = samples.map((_, i) => (stamp += deltas[i] ?? 0));
  for (let i = 0; i < samples.length; i++) {
    const until = i + 1 < samples.length ? stamps[i + 1] : (profile.endTime ?? stamps[i]);
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, until - stamps[i]));
  }
  let totalUs = 0;
  let idleUs = 0;
  let gcUs = 0;
  let programUs = 0;
  const byFunction = new Map();
  const byModule = new Map();
  const byCaller = new Map();
  for (const [id, us] of selfUs) {
    const node = nodes.get(id);
    if (!node) continue;
    totalUs += us;
    const frame = node.callFrame;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idleUs += us;
      continue;
    }
    if (name === '(garbage collector)') gcUs += us;
    if (name === '(program)') programUs += us;
    const where = SPECIAL.has(name) ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${name}\u0000${where}`;
    const entry = byFunction.get(key) ?? { name, where, module: SPECIAL.has(name) ? name : moduleOf(frame.url), selfUs: 0 };
    entry.selfUs += us;
    byFunction.set(key, entry);
    const module = SPECIAL.has(name) ? name : moduleOf(frame.url);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    const caller = SPECIAL.has(name) ? name : nearestPackage(id, nodes, parents);
    byCaller.set(caller, (byCaller.get(caller) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us) => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  const ms = (us) => Math.round(us / 100) / 10;
  return {
    totalMs: ms(totalUs),
    idleMs: ms(idleUs),
    busyMs: ms(busyUs),
    gcMs: ms(gcUs),
    programMs: ms(programUs),
    functions: [...byFunction.values()]
      .sort((a, b) => b.selfUs - a.selfUs)
      .slice(0, top)
      .map(({ name, where, module, selfUs: us }) => ({ name, where, module, selfMs: ms(us), pct: pct(us) })),
    callers: [...byCaller.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, us]) => ({ module, selfMs: ms(us), pct: pct(us) })),
    modules: [...byModule.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([module, us]) => ({ module, selfMs: ms(us), pct: pct(us) })),
  };
}

module.exports = { summarizeProfile, moduleOf };
