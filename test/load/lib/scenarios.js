'use strict';
/**
 * The six scenarios of issue 6. Each returns { key, title, figures, details, violations } where figures
 * carry their targets (see table.js) and violations are correctness failures (non-zero exit).
 */
const { randomUUID } = require('node:crypto');
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { gunzip } = require('node:zlib');
const { performance } = require('node:perf_hooks');
const { buyerHeaders } = require('./bench-identity');
const { summarize, ratePerSecond, round, countBy } = require('./stats');
const { closedLoop, openLoop, sleep } = require('./drivers');
const { SeatView, mulberry32, partySize } = require('./flash-sale-model');
const { takenSeatIds, takenSeatIdsByParsing, crossCheck, seatCount, StalenessTracker } = require('./seat-map');
const { cpuBetween } = require('./processes');
const { measureRoundTrip } = require('./tcp-round-trip');

const gunzipAsync = promisify(gunzip);
const execFileAsync = promisify(execFile);

const TARGETS = {
  steadyRate: { op: '>=', value: 1000 },
  steadyP99: { op: '<=', value: 50 },
  ratio: { op: '>=', value: 0.25 },
  sellOutMs: { op: '<=', value: 10_000 },
  zero: { op: '==', value: 0 },
  mapRate: { op: '>=', value: 200 },
  mapP99: { op: '<=', value: 100 },
  stalenessMs: { op: '<=', value: 1000 },
  soldP99: { op: '<=', value: 100 },
  expiryMs: { op: '<=', value: 10_000 },
  openLoopP99: { op: '<=', value: 25 },
  rssMb: { op: '<=', value: 200 },
};

const reservationBody = (sessionId, seatIds) =>
  `{"session_id":"${sessionId}","seats":[${seatIds.map((id) => `{"session_seat_id":"${id}"}`).join(',')}]}`;

function reserve(booking, sessionId, seatIds, userId = randomUUID()) {
  return booking.request('POST', '/api/v1/reservations', {
    headers: buyerHeaders(userId),
    body: reservationBody(sessionId, seatIds),
  });
}

function parseJson(buffer) {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Status label for counting: the HTTP status, or the network error (TIMEOUT, ECONNRESET…). */
const statusLabel = (response) => (response.status === 0 ? `net:${response.error}` : String(response.status));

/** A few distinct examples of unexpected answers, for the report. */
function exampleCollector(limit = 5) {
  const examples = [];
  return {
    add(response) {
      if (examples.length >= limit) return;
      examples.push(`${statusLabel(response)} ${response.body?.toString('utf8').slice(0, 200) ?? ''}`.trim());
    },
    examples,
  };
}

/**
 * Holds `count` seats (one per reservation, distinct buyers) with `concurrency` closed-loop workers;
 * used to prepare scenarios 4 and 5. Bounded by `timeoutMs`.
 */
async function createHolds(ctx, sessionKey, count, { concurrency = 64, timeoutMs = 180_000 } = {}) {
  const session = ctx.catalog.get(sessionKey);
  if (count > session.seats.length) throw new Error(`${sessionKey} has ${session.seats.length} seats, ${count} holds wanted`);
  const holds = [];
  const failures = exampleCollector();
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const deadline = started + timeoutMs;
  const loop = closedLoop(concurrency, async () => {
    if (next >= count || performance.now() > deadline) return false;
    const seatId = session.seats[next++];
    const userId = randomUUID();
    const response = await reserve(ctx.booking, session.sessionId, [seatId], userId);
    if (response.status === 201) holds.push({ reservationId: parseJson(response.body)?.id, userId, seatId });
    else {
      failed += 1;
      failures.add(response);
    }
    return true;
  });
  await loop.done;
  const elapsedMs = performance.now() - started;
  return { holds, failed, failures: failures.examples, elapsedMs, rate: ratePerSecond(holds.length, elapsedMs) };
}

// ---- 1. steady bookings --------------------------------------------------------------------------------

async function steadyBookings(ctx) {
  const concurrency = 64;
  const warmupMs = 2_000;
  const durationMs = ctx.durationMs;
  const session = ctx.catalog.get('steady');
  let next = 0;
  let phase = 'warmup';
  let windowStart = 0;
  let windowEnd = Infinity;
  let exhausted = false;
  let completedInWindow = 0;
  let created = 0;
  const latencies = [];
  const statuses = [];
  const unexpected = exampleCollector();
  const loop = closedLoop(concurrency, async () => {
    if (phase === 'stop') return false;
    if (next >= session.seats.length) {
      exhausted = true;
      return false;
    }
    const seatId = session.seats[next++];
    const measured = phase === 'measure';
    const response = await reserve(ctx.booking, session.sessionId, [seatId]);
    if (response.status === 201) created += 1;
    if (response.status === 201 && response.ended >= windowStart && response.ended <= windowEnd && windowStart > 0) completedInWindow += 1;
    if (measured) {
      latencies.push(response.ms);
      statuses.push(statusLabel(response));
      if (response.status !== 201) unexpected.add(response);
    }
    return true;
  });
  await Promise.race([sleep(warmupMs), loop.done]);
  await ctx.analyzeAfterWarmup?.();
  phase = 'measure';
  windowStart = performance.now();
  await Promise.race([sleep(durationMs), loop.done]);
  windowEnd = performance.now();
  phase = 'stop';
  loop.stop();
  await loop.done;
  const windowMs = windowEnd - windowStart;
  const latency = summarize(latencies);
  const counts = countBy(statuses);
  const errors = statuses.filter((status) => status !== '201').length;
  const rate = ratePerSecond(completedInWindow, windowMs);
  ctx.results.steadyRate = rate;
  return {
    key: 'steady',
    title: `1. Steady bookings — ${concurrency} concurrent buyers, one distinct seat each, ${round(windowMs / 1000)} s measured after ${warmupMs / 1000} s warm-up`,
    figures: [
      { key: 'reservations_per_s', label: 'reservations/s', value: round(rate), unit: '/s', target: TARGETS.steadyRate },
      { key: 'p50_ms', label: 'latency p50', value: round(latency.p50), unit: 'ms' },
      { key: 'p95_ms', label: 'latency p95', value: round(latency.p95), unit: 'ms' },
      { key: 'p99_ms', label: 'latency p99', value: round(latency.p99), unit: 'ms', target: TARGETS.steadyP99 },
      { key: 'max_ms', label: 'latency max', value: round(latency.max), unit: 'ms' },
      { key: 'requests', label: 'requests measured', value: latency.count },
      { key: 'errors', label: 'errors (non-201)', value: errors, target: TARGETS.zero, note: errors ? JSON.stringify(counts) : '' },
    ],
    details: { windowMs: round(windowMs), completedInWindow, statuses: counts, latency, seatsExhausted: exhausted, unexpected: unexpected.examples },
    notes: exhausted ? [`the ${session.seatCount}-seat session ran out of seats; the window was cut short`] : [],
    work: { unit: 'reservation', count: created },
    violations: [],
  };
}

// ---- 2. flash sale -------------------------------------------------------------------------------------

async function flashSale(ctx) {
  const buyers = 10_000;
  const concurrency = 256;
  const maxAttempts = 8;
  const timeoutMs = 120_000;
  const session = ctx.catalog.get('flash');
  const view = new SeatView(session.rows);
  const rng = mulberry32(20_240_601);
  const latencies = [];
  const latencies201 = [];
  const statuses = [];
  const codes409 = [];
  const unexpected = exampleCollector(10);
  const granted = []; // { reservationId, seatIds }
  let seatsGranted = 0;
  let soldOutAt;
  let nextBuyer = 0;
  let buyersServed = 0;
  let buyersGaveUp = 0;
  let buyersSawSoldOut = 0;
  const started = performance.now();
  const deadline = started + timeoutMs;

  const loop = closedLoop(concurrency, async () => {
    if (nextBuyer >= buyers || performance.now() > deadline) return false;
    nextBuyer += 1;
    const userId = randomUUID();
    const wanted = partySize(rng);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const seatIds = view.pick(wanted, rng);
      if (seatIds.length === 0) {
        buyersSawSoldOut += 1;
        return true;
      }
      const response = await reserve(ctx.booking, session.sessionId, seatIds, userId);
      latencies.push(response.ms);
      statuses.push(statusLabel(response));
      if (response.status === 201) {
        latencies201.push(response.ms);
        const body = parseJson(response.body);
        granted.push({ reservationId: body?.id, seatIds });
        view.markTaken(seatIds);
        seatsGranted += seatIds.length;
        if (seatsGranted >= session.seatCount && soldOutAt === undefined) soldOutAt = response.ended;
        buyersServed += 1;
        return true;
      }
      if (response.status === 409) {
        const error = parseJson(response.body)?.error;
        codes409.push(error?.code ?? 'unknown');
        const unavailable = error?.details?.unavailable;
        if (Array.isArray(unavailable)) {
          view.markTaken(unavailable.filter((seat) => seat.status === 'reserved' || seat.status === 'sold').map((seat) => seat.session_seat_id));
        }
      } else {
        unexpected.add(response);
      }
    }
    buyersGaveUp += 1;
    return true;
  });
  await loop.done;
  const endedAt = performance.now();

  const counts = countBy(statuses);
  const fiveXx = statuses.filter((status) => status.startsWith('5')).length;
  const network = statuses.filter((status) => status.startsWith('net:')).length;
  const other4xx = statuses.filter((status) => status.startsWith('4') && status !== '409').length;
  const latency = summarize(latencies);
  const check = await checkNoDoubleHolds(ctx, session, granted);
  const violations = [...check.violations];
  if (fiveXx) violations.push(`flash sale: ${fiveXx} responses were 5xx (must be 0): ${unexpected.examples.slice(0, 3).join(' | ')}`);
  if (network) violations.push(`flash sale: ${network} requests failed at the network level (timeouts/resets)`);
  const sellOutMs = soldOutAt === undefined ? NaN : soldOutAt - started;
  return {
    key: 'flash_sale',
    title: `2. Flash sale — ${buyers.toLocaleString('en-US')} buyers (1-4 seats, front rows preferred) for ${session.seatCount.toLocaleString('en-US')} seats, ${concurrency} at a time`,
    figures: [
      {
        key: 'sell_out_ms',
        label: 'wall time to sell out',
        value: round(sellOutMs),
        unit: 'ms',
        target: TARGETS.sellOutMs,
        note: soldOutAt === undefined ? `NOT sold out: ${session.seatCount - seatsGranted} seats left` : '',
      },
      { key: 'created_201', label: '201 Created', value: counts['201'] ?? 0 },
      { key: 'conflict_409', label: '409 Conflict', value: counts['409'] ?? 0, note: JSON.stringify(countBy(codes409)) },
      { key: 'other_4xx', label: 'other 4xx', value: other4xx },
      { key: 'errors_5xx', label: '5xx', value: fiveXx, target: TARGETS.zero },
      { key: 'network_errors', label: 'network errors/timeouts', value: network, target: TARGETS.zero },
      { key: 'p50_ms', label: 'latency p50 (all answers)', value: round(latency.p50), unit: 'ms' },
      { key: 'p99_ms', label: 'latency p99 (all answers)', value: round(latency.p99), unit: 'ms' },
      { key: 'p99_201_ms', label: 'latency p99 (201s)', value: round(summarize(latencies201).p99), unit: 'ms' },
      { key: 'requests', label: 'requests', value: latency.count },
      { key: 'double_holds', label: 'seats held/sold twice', value: check.doubleHolds, target: TARGETS.zero },
      { key: 'consistency_violations', label: 'other consistency violations', value: check.violations.length - check.doubleHoldViolations, target: TARGETS.zero },
    ],
    details: {
      seatsGranted,
      buyersStarted: nextBuyer,
      buyersServed,
      buyersGaveUpAfterAttempts: buyersGaveUp,
      buyersSawSoldOut,
      wallMs: round(endedAt - started),
      statuses: counts,
      codes409: countBy(codes409),
      latency,
      check: check.summary,
      unexpected: unexpected.examples,
    },
    notes: [`correctness check (event DB vs booking DB): ${check.summary.text}`],
    work: { unit: 'request', count: latency.count },
    violations,
  };
}

/**
 * After the sale: every active/confirmed reservation's seats are held or sold by exactly that reservation
 * in the event DB, no seat belongs to two of them, no seat is held by anything else, and the seats the
 * 201s granted equal the seats held.
 */
async function checkNoDoubleHolds(ctx, session, granted) {
  const { rows: seats } = await ctx.eventDb.query('SELECT id, status, reservation_id FROM session_seats WHERE session_id = $1', [session.sessionId]);
  const { rows: items } = await ctx.bookingDb.query(
    `SELECT r.id AS reservation_id, r.status, ri.session_seat_id
       FROM reservations r JOIN reservation_items ri ON ri.reservation_id = r.id
      WHERE r.session_id = $1`,
    [session.sessionId],
  );
  const { rows: pending } = await ctx.bookingDb.query('SELECT count(*)::int AS n FROM pending_holds WHERE session_id = $1', [session.sessionId]);
  const violations = [];
  let doubleHoldViolations = 0;
  const live = items.filter((item) => item.status === 'active' || item.status === 'confirmed');
  const holders = new Map();
  for (const item of live) holders.set(item.session_seat_id, [...(holders.get(item.session_seat_id) ?? []), item.reservation_id]);
  let doubleHolds = 0;
  for (const [seatId, reservations] of holders) {
    if (reservations.length > 1) {
      doubleHolds += 1;
      doubleHoldViolations += 1;
      violations.push(`DOUBLE HOLD: seat ${seatId} belongs to ${reservations.length} live reservations (${reservations.join(', ')})`);
    }
  }
  const grantedSeats = new Map();
  for (const grant of granted) {
    for (const seatId of grant.seatIds) {
      if (grantedSeats.has(seatId)) {
        doubleHolds += 1;
        doubleHoldViolations += 1;
        violations.push(`DOUBLE HOLD: seat ${seatId} was granted by two 201s (${grantedSeats.get(seatId)} and ${grant.reservationId})`);
      }
      grantedSeats.set(seatId, grant.reservationId);
    }
  }
  const seatById = new Map(seats.map((seat) => [seat.id, seat]));
  for (const item of live) {
    const seat = seatById.get(item.session_seat_id);
    if (!seat || seat.status === 'available' || seat.reservation_id !== item.reservation_id) {
      violations.push(`seat ${item.session_seat_id} of live reservation ${item.reservation_id} is ${seat ? `${seat.status} by ${seat.reservation_id}` : 'missing'} in the event DB`);
    }
  }
  const liveIds = new Set(live.map((item) => item.reservation_id));
  const held = seats.filter((seat) => seat.status !== 'available');
  const orphans = held.filter((seat) => !liveIds.has(seat.reservation_id));
  for (const seat of orphans.slice(0, 20)) violations.push(`seat ${seat.id} is ${seat.status} by ${seat.reservation_id}, which is no live reservation in the booking DB`);
  if (orphans.length > 20) violations.push(`… and ${orphans.length - 20} more orphaned holds`);
  const grantedCount = [...grantedSeats.keys()].length;
  if (grantedCount !== held.length || grantedCount !== live.length) {
    violations.push(`seats granted by 201s (${grantedCount}) ≠ seats held in the event DB (${held.length}) or live reservation items (${live.length})`);
  }
  const grantedIds = new Set(granted.map((grant) => grant.reservationId));
  const missing = [...grantedIds].filter((id) => !liveIds.has(id));
  if (missing.length) violations.push(`${missing.length} reservations answered 201 are not live in the booking DB (e.g. ${missing[0]})`);
  const text =
    `${held.length} seats held in the event DB, ${live.length} live reservation items, ${grantedCount} seats granted by ${granted.length} 201s, ` +
    `${orphans.length} orphaned holds, ${pending[0].n} pending holds, ${doubleHolds} double holds → ${violations.length === 0 ? 'OK' : 'VIOLATED'}`;
  return { violations, doubleHolds, doubleHoldViolations, summary: { held: held.length, liveItems: live.length, granted: grantedCount, orphans: orphans.length, pendingHolds: pending[0].n, doubleHolds, text } };
}

// ---- 3. seat map under booking load --------------------------------------------------------------------

async function seatMapUnderLoad(ctx) {
  const readers = 16;
  const bookingRate = 200;
  const warmupMs = 2_000;
  const durationMs = ctx.durationMs;
  const checkEveryMs = 100;
  const session = ctx.catalog.get('map');
  const path = `/api/v1/sessions/${session.sessionId}/seat-map`;
  const tracker = new StalenessTracker();
  const mapLatencies = [];
  const mapStatuses = [];
  const wireBytes = [];
  const encodings = [];
  const bookingLatencies = [];
  const bookingStatuses = [];
  const unexpected = exampleCollector();
  let measuring = false;
  let stopReaders = false;
  let lastCheck = 0;
  let parseMode = 'scan';
  let checks = 0;
  let crossChecks = 0;
  const formatProblems = [];
  let nextSeat = 0;
  let bookingsStarted = 0;

  const decodeTaken = async (response) => {
    const raw = response.headers['content-encoding'] === 'gzip' ? await gunzipAsync(response.body) : response.body;
    const text = raw.toString('utf8');
    checks += 1;
    if (checks === 1 || checks % 25 === 0) {
      crossChecks += 1;
      const count = seatCount(text);
      if (count !== session.seatCount) formatProblems.push(`a map listed ${count} seats, expected ${session.seatCount}`);
      if (parseMode === 'scan' && !crossCheck(text)) {
        parseMode = 'parse';
        formatProblems.push('the fast seat-map scan disagreed with JSON.parse; switched to full parsing');
      }
    }
    return (parseMode === 'scan' && takenSeatIds(text)) || takenSeatIdsByParsing(text);
  };

  const reader = async () => {
    let etag;
    let copy; // taken set of this client's current copy, when it was decoded
    while (!stopReaders) {
      const headers = { 'accept-encoding': 'gzip' };
      if (etag) headers['if-none-match'] = etag;
      const response = await ctx.event.request('GET', path, { headers });
      // At most one new copy is decoded per checkEveryMs (to spare the CPU); a client whose copy was decoded
      // keeps observing through its 304s, so the map is watched continuously, not only at its 200s.
      const check = measuring && response.status === 200 && performance.now() - lastCheck >= checkEveryMs;
      if (check) lastCheck = performance.now();
      if (measuring) {
        mapLatencies.push(response.ms);
        mapStatuses.push(statusLabel(response));
        wireBytes.push(response.bytes);
        encodings.push(response.headers['content-encoding'] ?? 'identity');
      }
      if (response.status === 200) {
        etag = response.headers.etag;
        copy = undefined;
        if (check) {
          copy = await decodeTaken(response);
          tracker.addObservation(response.started, response.ended, copy);
        }
      } else if (response.status === 304) {
        if (measuring && copy) tracker.addObservation(response.started, response.ended, copy);
      } else {
        etag = undefined;
        copy = undefined;
        if (measuring) unexpected.add(response);
      }
    }
  };

  const booker = async () => {
    if (nextSeat >= session.seats.length) return;
    const seatId = session.seats[nextSeat++];
    bookingsStarted += 1;
    const response = await reserve(ctx.booking, session.sessionId, [seatId]);
    if (measuring) {
      bookingLatencies.push(response.ms);
      bookingStatuses.push(statusLabel(response));
    }
    if (response.status === 201) tracker.addReservation(seatId, response.ended);
  };

  const readerLoops = Array.from({ length: readers }, reader);
  const warmup = openLoop({ ratePerSecond: bookingRate, durationMs: warmupMs, task: booker });
  await warmup;
  measuring = true;
  const cpuStart = ctx.processes.cpuSnapshot();
  const measuredStart = performance.now();
  const load = await openLoop({ ratePerSecond: bookingRate, durationMs, task: booker });
  const measuredMs = performance.now() - measuredStart;
  const cpu = cpuBetween(cpuStart, ctx.processes.cpuSnapshot());
  measuring = false;
  stopReaders = true;
  await Promise.all(readerLoops);

  const map = summarize(mapLatencies);
  const ok = mapStatuses.filter((status) => status === '200' || status === '304').length;
  const staleness = tracker.result();
  const stale = summarize(staleness.values);
  // Judged only on enough reservations: a handful that happened to succeed says little about the bound.
  const minimumObserved = 50;
  const judgeable = staleness.values.length >= minimumObserved;
  const mapErrors = mapStatuses.length - ok;
  const bookingErrors = bookingStatuses.filter((status) => status !== '201').length;
  const bodies200 = wireBytes.filter((_, i) => mapStatuses[i] === '200');
  const encodingCounts = countBy(encodings.filter((_, i) => mapStatuses[i] === '200'));
  return {
    key: 'seat_map',
    title: `3. Seat map — ${session.seatCount.toLocaleString('en-US')}-seat session read by ${readers} clients (Accept-Encoding: gzip, If-None-Match) while ${bookingRate} bookings/s land on it, ${round(measuredMs / 1000)} s`,
    figures: [
      { key: 'map_req_per_s', label: 'seat-map requests/s (200 + 304)', value: round(ratePerSecond(ok, measuredMs)), unit: '/s', target: TARGETS.mapRate },
      { key: 'map_p50_ms', label: 'seat-map latency p50', value: round(map.p50), unit: 'ms' },
      { key: 'map_p99_ms', label: 'seat-map latency p99', value: round(map.p99), unit: 'ms', target: TARGETS.mapP99 },
      {
        key: 'staleness_max_ms',
        label: 'staleness max',
        value: judgeable ? round(stale.max) : NaN,
        unit: 'ms',
        target: TARGETS.stalenessMs,
        note: judgeable
          ? `over ${staleness.values.length} reservations`
          : `not judged: ${staleness.values.length} reservations succeeded and were followed by a checked map${staleness.values.length ? ` (max ${round(stale.max)} ms)` : ''}; ≥ ${minimumObserved} needed`,
      },
      { key: 'staleness_p99_ms', label: 'staleness p99', value: judgeable ? round(stale.p99) : NaN, unit: 'ms' },
      { key: 'not_modified_304', label: '304 Not Modified answers', value: mapStatuses.filter((status) => status === '304').length },
      { key: 'bytes_per_200', label: 'bytes on the wire per 200', value: Math.round(summarize(bodies200).mean), note: `content-encoding ${JSON.stringify(encodingCounts)}` },
      { key: 'map_errors', label: 'seat-map errors', value: mapErrors, target: TARGETS.zero, note: mapErrors ? JSON.stringify(countBy(mapStatuses)) : '' },
      { key: 'bookings_per_s', label: 'bookings/s achieved (offered 200)', value: round(ratePerSecond(bookingStatuses.filter((s) => s === '201').length, measuredMs)), unit: '/s' },
      { key: 'booking_p99_ms', label: 'booking latency p99', value: round(summarize(bookingLatencies).p99), unit: 'ms' },
      { key: 'booking_errors', label: 'booking errors (non-201)', value: bookingErrors, target: TARGETS.zero, note: bookingErrors ? JSON.stringify(countBy(bookingStatuses)) : '' },
    ],
    details: {
      measuredMs: round(measuredMs),
      map,
      mapStatuses: countBy(mapStatuses),
      staleness: { ...stale, observedReservations: staleness.values.length, unobserved: staleness.unobserved, observations: staleness.observations, staleObservations: staleness.staleObservations },
      checks,
      crossChecks,
      parseMode,
      formatProblems,
      bookings: { started: bookingsStarted, skipped: load.skipped, statuses: countBy(bookingStatuses), latency: summarize(bookingLatencies) },
      unexpected: unexpected.examples,
    },
    notes: [
      `staleness: for each 201, the longest time until a map whose request started after it still lacked the seat (0 if none); ${staleness.values.length} reservations observed in ${staleness.observations} map observations (≤ 1 new copy decoded per ${checkEveryMs} ms; a 304 observes the client's decoded copy)`,
      ...formatProblems,
    ],
    cpu,
    work: { unit: 'seat-map answer', count: ok },
    violations: formatProblems.filter((problem) => problem.includes('listed')),
  };
}

// ---- 4. confirm -> sold --------------------------------------------------------------------------------

async function confirmToSold(ctx) {
  const rate = 200;
  const durationMs = ctx.durationMs;
  const pollMs = 10;
  const drainTimeoutMs = 30_000;
  const session = ctx.catalog.get('confirm');
  const wanted = Math.min(session.seats.length, Math.ceil((rate * durationMs) / 1000) + 50);
  ctx.log(`  preparing ${wanted} holds to confirm…`);
  const prepared = await createHolds(ctx, 'confirm', wanted);
  ctx.log(`  ${prepared.holds.length} holds in ${round(prepared.elapsedMs / 1000)} s (${round(prepared.rate)}/s)`);
  if (prepared.failed) ctx.log(`  ${prepared.failed} holds failed: ${prepared.failures.join(' | ')}`);
  const holds = prepared.holds.filter((hold) => hold.reservationId);

  const confirmLatencies = [];
  const confirmStatuses = [];
  const unexpected = exampleCollector();
  const pending = new Map(); // seatId -> time of the confirm's 200
  const delays = [];
  let next = 0;
  let polling = true;
  let polls = 0;
  let pollQueryMs = 0;

  const poller = (async () => {
    while (polling || pending.size > 0) {
      if (pending.size === 0) {
        await sleep(pollMs);
        continue;
      }
      const ids = [...pending.keys()];
      const issued = performance.now();
      const { rows } = await ctx.eventDb.query(`SELECT id FROM session_seats WHERE session_id = $1 AND id = ANY($2::uuid[]) AND status = 'sold'`, [session.sessionId, ids]);
      polls += 1;
      pollQueryMs += performance.now() - issued;
      for (const { id } of rows) {
        delays.push(Math.max(0, issued - pending.get(id)));
        pending.delete(id);
      }
      const wait = pollMs - (performance.now() - issued);
      if (wait > 0) await sleep(wait);
    }
  })();
  const batchesBefore = await consumerBatches(ctx);
  const cpuStart = ctx.processes.cpuSnapshot();
  const started = performance.now();
  const load = await openLoop({
    ratePerSecond: rate,
    durationMs,
    shouldStop: () => next >= holds.length,
    task: async () => {
      if (next >= holds.length) return;
      const hold = holds[next++];
      const response = await ctx.booking.request('POST', `/api/v1/reservations/${hold.reservationId}/confirm`, {
        headers: buyerHeaders(hold.userId),
        body: `{"payment_id":"bench-${hold.reservationId}"}`,
      });
      confirmLatencies.push(response.ms);
      confirmStatuses.push(statusLabel(response));
      if (response.status === 200) pending.set(hold.seatId, response.ended);
      else unexpected.add(response);
    },
  });
  const confirmMs = performance.now() - started;
  polling = false;
  const drainDeadline = performance.now() + drainTimeoutMs;
  while (pending.size > 0 && performance.now() < drainDeadline) await sleep(50);
  const notSold = pending.size;
  pending.clear();
  await poller;
  const cpu = cpuBetween(cpuStart, ctx.processes.cpuSnapshot());
  const batches = batchFigure(batchesBefore, await consumerBatches(ctx));

  const delay = summarize(delays);
  const confirm = summarize(confirmLatencies);
  const confirmed = confirmStatuses.filter((status) => status === '200').length;
  const errors = confirmStatuses.length - confirmed;
  const violations = notSold ? [`confirm → sold: ${notSold} confirmed seats were not sold within ${drainTimeoutMs / 1000} s`] : [];
  return {
    key: 'confirm_to_sold',
    title: `4. Confirm → sold — ${rate} confirms/s for ${round(confirmMs / 1000)} s; sold seen by polling the event DB every ${pollMs} ms`,
    figures: [
      { key: 'confirms_per_s', label: `confirms/s achieved (offered ${rate})`, value: round(ratePerSecond(confirmed, confirmMs)), unit: '/s' },
      { key: 'confirm_p50_ms', label: 'confirm latency p50', value: round(confirm.p50), unit: 'ms' },
      { key: 'confirm_p99_ms', label: 'confirm latency p99', value: round(confirm.p99), unit: 'ms' },
      { key: 'sold_p50_ms', label: 'confirm → sold p50', value: round(delay.p50), unit: 'ms' },
      { key: 'sold_p99_ms', label: 'confirm → sold p99', value: round(delay.p99), unit: 'ms', target: TARGETS.soldP99 },
      { key: 'sold_max_ms', label: 'confirm → sold max', value: round(delay.max), unit: 'ms' },
      { key: 'not_sold', label: `not sold within ${drainTimeoutMs / 1000} s`, value: notSold, target: TARGETS.zero },
      { key: 'confirm_errors', label: 'confirm errors (non-200)', value: errors, target: TARGETS.zero },
      batches,
    ],
    details: {
      preparedHolds: prepared.holds.length,
      holdRate: round(prepared.rate),
      confirmMs: round(confirmMs),
      skipped: load.skipped,
      statuses: countBy(confirmStatuses),
      confirm,
      delay,
      polls,
      meanPollQueryMs: round(polls ? pollQueryMs / polls : NaN, 2),
      unexpected: unexpected.examples,
    },
    notes: [
      `delay = start of the first event-DB poll that saw the seat sold − arrival of the confirm's 200 (resolution ≈ ${pollMs} ms + query time, mean ${round(polls ? pollQueryMs / polls : NaN, 2)} ms)`,
      'CPU below: from the first confirm until every confirmed seat showed sold (hold preparation excluded)',
    ],
    cpu,
    work: { unit: 'confirm', count: confirmStatuses.length },
    violations,
  };
}

/** The consumer's consumer_batch_messages histogram (sum and count), read from its /metrics. */
async function consumerBatches(ctx) {
  try {
    const response = await fetch(ctx.consumerMetricsUrl);
    const text = await response.text();
    const read = (name) => Number(text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm'))?.[1] ?? NaN);
    return { messages: read('consumer_batch_messages_sum'), transactions: read('consumer_batch_messages_count') };
  } catch (error) {
    return { messages: NaN, transactions: NaN, error: error.message };
  }
}

/** Messages per consumer transaction between two readings (NaN when the consumer could not be asked). */
function batchFigure(before, after) {
  const messages = after.messages - before.messages;
  const transactions = after.transactions - before.transactions;
  return {
    key: 'consumer_batch_mean',
    label: 'messages per consumer transaction (mean)',
    value: round(transactions > 0 ? messages / transactions : NaN),
    note: after.error ?? before.error ?? `${messages} messages in ${transactions} transactions`,
  };
}

// ---- 5. expiry -----------------------------------------------------------------------------------------

async function expiry(ctx) {
  const count = 10_000;
  const releaseTimeoutMs = 120_000;
  const session = ctx.catalog.get('expiry');
  ctx.log(`  preparing ${count.toLocaleString('en-US')} holds…`);
  const prepared = await createHolds(ctx, 'expiry', count);
  ctx.log(`  ${prepared.holds.length} holds in ${round(prepared.elapsedMs / 1000)} s (${round(prepared.rate)}/s)`);
  // Holds earlier scenarios abandoned (e.g. 503s in scenario 3) would be released by the same run and
  // inflate it: sweep them first with an unmeasured run and wait until their releases are applied.
  const preSweep = await sweepLeftovers(ctx);
  if (preSweep.outboxRows) ctx.log(`  pre-sweep released leftovers of earlier scenarios: ${preSweep.outboxRows} outbox rows, drained in ${round(preSweep.ms / 1000)} s`);
  // Past their expiry: backdate in the booking DB (what the job reads) and, for consistency, the event DB.
  const { rowCount: backdated } = await ctx.bookingDb.query(
    `UPDATE reservations SET expiry_time = now() - interval '1 second' WHERE session_id = $1 AND status = 'active'`,
    [session.sessionId],
  );
  await ctx.eventDb.query(`UPDATE session_seats SET reserved_until = now() - interval '1 second' WHERE session_id = $1 AND status = 'reserved'`, [session.sessionId]);
  const heldBefore = await heldSeats(ctx, session.sessionId);
  const outboxBefore = await outboxRows(ctx);

  const batchesBefore = await consumerBatches(ctx);
  const cpuStart = ctx.processes.cpuSnapshot();
  const started = performance.now();
  const job = ctx.processes.spawn('expire-reservations-job', 'services/booking-service/dist/entry-points/expire-reservations-main.js', ctx.bookingEnv);
  let releasedAt;
  let jobEndedAt;
  job.exitPromise.then(() => (jobEndedAt = performance.now()));
  let held = heldBefore;
  while (performance.now() - started < releaseTimeoutMs) {
    held = await heldSeats(ctx, session.sessionId);
    if (held === 0) {
      releasedAt = performance.now();
      break;
    }
    await sleep(50);
  }
  const exit = await Promise.race([job.exitPromise, sleep(5_000).then(() => undefined)]);
  const cpu = cpuBetween(cpuStart, ctx.processes.cpuSnapshot());
  const batches = batchFigure(batchesBefore, await consumerBatches(ctx));
  const { rows } = await ctx.bookingDb.query(`SELECT status, count(*)::int AS n FROM reservations WHERE session_id = $1 GROUP BY status`, [session.sessionId]);
  const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.n]));
  const outboxWritten = (await outboxRows(ctx)).total - outboxBefore.total;
  const violations = [];
  if (!exit || exit.code !== 0) violations.push(`expiry job did not exit cleanly (${exit ? `code ${exit.code}` : 'still running'}): ${job.tail.slice(-5).join(' | ')}`);
  if (releasedAt === undefined) violations.push(`expiry: ${held} seats were still held ${releaseTimeoutMs / 1000} s after the job started`);
  const jobMs = jobEndedAt === undefined ? NaN : jobEndedAt - started;
  const releaseMs = releasedAt === undefined ? NaN : releasedAt - started;
  return {
    key: 'expiry',
    title: `5. Expiry — ${backdated.toLocaleString('en-US')} holds past their expiry, one run of job:expire-reservations (own process)`,
    figures: [
      { key: 'release_all_ms', label: 'job start → every seat available again', value: round(releaseMs), unit: 'ms', target: TARGETS.expiryMs },
      { key: 'job_ms', label: 'job process run (spawn → exit)', value: round(jobMs), unit: 'ms', target: TARGETS.expiryMs },
      { key: 'expired', label: 'reservations now expired', value: byStatus.expired ?? 0 },
      { key: 'outbox_rows', label: 'reservation.expired rows the run wrote', value: outboxWritten },
      { key: 'still_held', label: 'seats still held at the end', value: held, target: TARGETS.zero },
      batches,
    ],
    details: { preparedHolds: prepared.holds.length, holdRate: round(prepared.rate), preSweep, backdated, heldBefore, byStatus, outboxWritten, jobExit: exit ?? 'running' },
    notes: [
      'the job marks holds expired and writes reservation.expired to the outbox; the booking API\'s relay publishes them (it polls the outbox every OUTBOX_POLL_INTERVAL_MS) and the event consumer frees the seats',
      `seats held polled in the event DB every 50 ms; holds were prepared through the API at ${round(prepared.rate)}/s, then backdated by SQL`,
      'CPU below: from the job\'s start until every seat was available again (hold preparation excluded)',
    ],
    cpu,
    work: { unit: 'expired hold', count: outboxWritten },
    violations,
  };
}

async function outboxRows(ctx) {
  const { rows } = await ctx.bookingDb.query(`SELECT count(*)::int AS total, count(*) FILTER (WHERE published_at IS NULL)::int AS unpublished FROM outbox`);
  return rows[0];
}

/** One unmeasured job run, then waits (≤ 120 s) until the outbox is published and the queue is drained. */
async function sweepLeftovers(ctx) {
  const started = performance.now();
  const before = await outboxRows(ctx);
  const job = ctx.processes.spawn('expire-reservations-presweep', 'services/booking-service/dist/entry-points/expire-reservations-main.js', ctx.bookingEnv, { profile: false });
  await job.exitPromise;
  const written = (await outboxRows(ctx)).total - before.total;
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const { unpublished } = await outboxRows(ctx);
    const queue = await ctx.queueState();
    if (unpublished === 0 && queue.messages === 0) break;
    await sleep(250);
  }
  await sleep(500); // the last message in hand
  return { outboxRows: written, ms: round(performance.now() - started) };
}

async function heldSeats(ctx, sessionId) {
  const { rows } = await ctx.eventDb.query(`SELECT count(*)::int AS n FROM session_seats WHERE session_id = $1 AND status <> 'available'`, [sessionId]);
  return rows[0].n;
}

// ---- 6. pgbench reference ------------------------------------------------------------------------------

async function findPgbench() {
  for (const candidate of ['pgbench']) {
    try {
      await execFileAsync(candidate, ['--version']);
      return candidate;
    } catch {
      // not on PATH
    }
  }
  const { readdirSync, existsSync } = require('node:fs');
  try {
    for (const version of readdirSync('/usr/lib/postgresql').sort().reverse()) {
      const binary = `/usr/lib/postgresql/${version}/bin/pgbench`;
      if (existsSync(binary)) return binary;
    }
  } catch {
    // no PostgreSQL installation directory
  }
  return undefined;
}

async function pgbenchReference(ctx) {
  const seconds = Math.min(10, Math.round(ctx.durationMs / 1000));
  const pgbench = await findPgbench();
  if (!pgbench) {
    return {
      key: 'pgbench',
      title: '6. Reference — pgbench',
      figures: [{ key: 'tps', label: 'pgbench tps', value: NaN, note: 'pgbench not found: apt-get install postgresql-client (or postgresql-contrib)' }],
      details: {},
      notes: [],
      violations: [],
    };
  }
  const url = new URL(ctx.postgresUrl);
  const env = { ...process.env, PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username || 'postgres') };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  const database = 'pgbench_bench_scratch';
  await ctx.createDatabase(database);
  let output;
  try {
    await execFileAsync(pgbench, ['-i', '-q', database], { env });
    ({ stdout: output } = await execFileAsync(pgbench, ['-N', '-c', '8', '-T', String(seconds), database], { env, timeout: (seconds + 60) * 1000 }));
  } finally {
    await ctx.dropDatabase(database).catch(() => undefined);
  }
  const roundTrip = await measureRoundTrip();
  const roundTripCpu = roundTrip.clientCpuMicros + roundTrip.serverCpuMicros;
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(output)?.[1] ?? /tps = ([\d.]+)/.exec(output)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(output)?.[1]);
  ctx.results.pgbenchTps = tps;
  const steady = ctx.results.steadyRate;
  const ratio = steady !== undefined && tps > 0 ? steady / tps : NaN;
  return {
    key: 'pgbench',
    title: `6. Reference — pgbench -N -c 8 -T ${seconds} (scale 1, scratch database) against the same Postgres, product idle`,
    figures: [
      { key: 'tps', label: 'pgbench tps', value: round(tps), unit: 'tps' },
      { key: 'latency_avg_ms', label: 'pgbench latency average', value: round(latency, 2), unit: 'ms' },
      {
        key: 'ratio',
        label: 'ratio reservations/s ÷ pgbench tps',
        value: round(ratio, 3),
        digits: 3,
        target: TARGETS.ratio,
        note: steady === undefined ? 'scenario 1 not run' : `${round(steady)} / ${round(tps)}`,
      },
      {
        key: 'tcp_round_trip_cpu_us',
        label: 'CPU per TCP round trip (2 node processes)',
        value: round(roundTripCpu, 1),
        unit: 'µs',
        note: `wall ${round(roundTrip.wallMicros, 1)} µs; client kernel ${round(roundTrip.clientSystemMicros, 1)} µs`,
      },
    ],
    details: { pgbench, output: output.trim().split('\n').slice(-8), tcpRoundTrip: roundTrip },
    notes: [
      'a reservation makes 7 round trips (buyer → booking API → Redis ×2, Postgres ×2, event API → Postgres) and 3 commits; the TCP figure is what each hop costs this machine before any protocol work (test/load/lib/tcp-round-trip.js)',
    ],
    violations: [],
  };
}

// ---- 7. open-loop bookings well below saturation -------------------------------------------------------

/**
 * Buyers arriving at an even pace of 0.1 × pgbench tps (one distinct seat each, open loop: arrivals do not
 * wait for answers): the latency a buyer sees when the machine is far from saturated.
 */
async function openLoopBookings(ctx) {
  if (!(ctx.results.pgbenchTps > 0)) await pgbenchReference(ctx);
  const tps = ctx.results.pgbenchTps;
  const rate = Math.max(1, Math.round(tps * 0.1));
  const warmupMs = 1_000;
  const durationMs = 10_000;
  const session = ctx.catalog.get('openloop');
  const latencies = [];
  const statuses = [];
  const unexpected = exampleCollector();
  let measuring = false;
  let next = 0;
  let created = 0;
  const booker = async () => {
    if (next >= session.seats.length) return;
    const response = await reserve(ctx.booking, session.sessionId, [session.seats[next++]]);
    if (response.status === 201) created += 1;
    if (!measuring) return;
    latencies.push(response.ms);
    statuses.push(statusLabel(response));
    if (response.status !== 201) unexpected.add(response);
  };
  await openLoop({ ratePerSecond: rate, durationMs: warmupMs, task: booker });
  measuring = true;
  const cpuStart = ctx.processes.cpuSnapshot();
  const load = await openLoop({ ratePerSecond: rate, durationMs, task: booker });
  const cpu = cpuBetween(cpuStart, ctx.processes.cpuSnapshot());
  measuring = false;
  const latency = summarize(latencies);
  const counts = countBy(statuses);
  const errors = statuses.filter((status) => status !== '201').length + load.skipped;
  return {
    key: 'open_loop',
    title: `7. Open-loop bookings — ${rate}/s (0.1 × pgbench ${round(tps)} tps) for ${durationMs / 1000} s, one distinct seat each`,
    figures: [
      { key: 'offered_per_s', label: 'offered reservations/s', value: rate, unit: '/s' },
      { key: 'achieved_per_s', label: 'achieved reservations/s', value: round(ratePerSecond(latencies.length, durationMs)), unit: '/s' },
      { key: 'p50_ms', label: 'latency p50', value: round(latency.p50), unit: 'ms' },
      { key: 'p99_ms', label: 'latency p99', value: round(latency.p99), unit: 'ms', target: TARGETS.openLoopP99 },
      { key: 'max_ms', label: 'latency max', value: round(latency.max), unit: 'ms' },
      { key: 'errors', label: 'errors (non-201, skipped)', value: errors, target: TARGETS.zero, note: errors ? JSON.stringify({ ...counts, skipped: load.skipped }) : '' },
    ],
    details: { rate, pgbenchTps: tps, statuses: counts, latency, sent: load.sent, skipped: load.skipped, unexpected: unexpected.examples },
    notes: next >= session.seats.length ? [`the ${session.seatCount}-seat session ran out of seats`] : [],
    cpu,
    work: { unit: 'reservation', count: created },
    violations: [],
  };
}

module.exports = {
  openLoopBookings,
  steadyBookings,
  flashSale,
  seatMapUnderLoad,
  confirmToSold,
  expiry,
  pgbenchReference,
  checkNoDoubleHolds,
  TARGETS,
};
