'use strict';
/**
 * Scenario 9, the on-sale waiting room of issue 15: BUYERS join a 1,000-seat session's queue in the JOIN window
 * before the opening (10 % of them from a second tab), the ticker draws their order at the opening and admits
 * 100 per second; every admitted buyer reads their token, holds one seat with it and pays, until the session sells
 * out and everyone still waiting is told. Checked: admission order = the order drawn at opening, no reservation
 * without a token (probes without one, and with another buyer's, must get 403), the sold-out notice reaches every
 * open status stream. Redis memory per queued buyer from INFO memory.
 *
 * Time: the joins arrive over BENCH_WAITING_ROOM_JOIN_SECONDS (default 60 s, the issue's minute; fewer seconds
 * compress it), the queue opens 3 s after the last join is due, the hold window is 60 s. BENCH_WAITING_ROOM_BUYERS
 * (default 50,000) and BENCH_WAITING_ROOM_STREAMS (status streams held open by buyers at the back, default 2,000)
 * scale it. The buyers' own polling is replaced by the bench watching the admitted set in Redis; each admitted
 * buyer then reads its token through the API like the web app does.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { Redis } = require('ioredis');
const { benchToken, buyerHeaders } = require('./bench-identity');
const { expectStatus } = require('./http-client');
const { summarize, round } = require('./stats');
const { cpuBetween } = require('./processes');

const RATE = 100;
const HOLD_WINDOW_S = 60;
const TARGETS = {
  zero: { op: '==', value: 0 },
  toldMs: { op: '<=', value: 2_000 },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const envInt = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive whole number`);
  return value;
};

/**
 * Reads a status stream until SOLD_OUT (or another final status); `done` resolves with when that arrived, and
 * `close()` ends a stream still open (it then counts as not told).
 */
function followStream(baseUrl, path, headers) {
  let req;
  const done = new Promise((resolve) => {
    const url = new URL(path, baseUrl);
    req = http.get({ hostname: url.hostname, port: url.port, path: url.pathname, headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      let buffer = '';
      let last;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        for (const match of buffer.matchAll(/"status":"([A-Z_]+)"/g)) last = match[1];
        buffer = buffer.slice(-200);
        if (last === 'SOLD_OUT') resolve({ status: last, at: performance.now() });
      });
      res.on('end', () => resolve({ status: last, at: performance.now() }));
      res.on('error', () => resolve({ status: 'ERROR', at: performance.now() }));
    });
    req.on('error', () => resolve({ status: 'ERROR', at: performance.now() }));
  });
  return { done, close: () => req.destroy() };
}

/** A request retried (same body: holds carry an Idempotency-Key, confirms a fixed payment id) while it fails with 0 or 5xx. */
async function withRetries(send, attempts = 4) {
  let response;
  for (let attempt = 0; attempt < attempts; attempt++) {
    response = await send();
    if (response.status !== 0 && response.status < 500) return response;
    await sleep(200 * (attempt + 1));
  }
  return response;
}

async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function waitingRoom(ctx) {
  const buyersCount = envInt('BENCH_WAITING_ROOM_BUYERS', 50_000);
  const joinS = envInt('BENCH_WAITING_ROOM_JOIN_SECONDS', 60);
  const streamCount = Math.min(envInt('BENCH_WAITING_ROOM_STREAMS', 2_000), Math.floor(buyersCount / 2));
  const { booking, log } = ctx;
  const session = ctx.catalog.get('queue');
  const sessionId = session.sessionId;
  const PREFIX = ctx.bookingEnv.WAITING_ROOM_REDIS_PREFIX;
  const keys = {
    config: `${PREFIX}:{${sessionId}}:config`,
    queue: `${PREFIX}:{${sessionId}}:queue`,
    admitted: `${PREFIX}:{${sessionId}}:admitted`,
  };
  const redis = new Redis(ctx.redisUrl);
  const violations = [];
  const notes = [];
  try {
    const memoryBefore = await usedMemory(redis);
    const opensAt = Date.now() + (joinS + 3) * 1000;
    const admin = { authorization: `Bearer ${benchToken(randomUUID(), ['admin'])}` };
    expectStatus('waiting room', await booking.json('PUT', `/api/v1/sessions/${sessionId}/waiting-room`, {
      headers: admin,
      body: { opens_at: new Date(opensAt).toISOString(), admission_rate_per_second: RATE, hold_window_seconds: HOLD_WINDOW_S },
    }), 200);

    // ---- joins: open loop, evenly spread over the window; every tenth buyer joins again from a second tab.
    const buyers = Array.from({ length: buyersCount }, () => ({ id: randomUUID() }));
    for (const buyer of buyers) buyer.headers = buyerHeaders(buyer.id);
    const byId = new Map(buyers.map((buyer) => [buyer.id, buyer]));
    const joins = [];
    const joinErrors = new Map();
    let tickets = 0;
    let lateJoins = 0;
    const join = async (buyer) => {
      const response = await booking.json('POST', `/api/v1/sessions/${sessionId}/queue`, { headers: buyer.headers });
      joins.push(response.ms);
      // A join answered after the opening (the machine fell behind) is queued in arrival order: right, but late.
      if (response.status === 200 && response.json?.status === 'QUEUED') lateJoins += 1;
      else if (response.status !== 200 || response.json?.status !== 'WAITING_FOR_OPENING') {
        const key = `${response.status} ${response.json?.status ?? response.error ?? ''}`;
        joinErrors.set(key, (joinErrors.get(key) ?? 0) + 1);
        return;
      }
      if (buyer.ticket && buyer.ticket !== response.json.queue_ticket) joinErrors.set('second tab got another ticket', (joinErrors.get('second tab got another ticket') ?? 0) + 1);
      if (!buyer.ticket) tickets += 1;
      buyer.ticket = response.json.queue_ticket;
    };
    const arrivals = [...buyers, ...buyers.filter((_, i) => i % 10 === 0)];
    log(`  ${buyersCount.toLocaleString('en-US')} buyers (+${arrivals.length - buyersCount} second tabs) join in ${joinS} s; the queue opens at +${joinS + 3} s…`);
    const joinStarted = performance.now();
    const cpuBefore = ctx.processes.cpuSnapshot();
    const inFlight = new Set();
    for (let i = 0; i < arrivals.length; i++) {
      const due = joinStarted + (i * joinS * 1000) / arrivals.length;
      const wait = due - performance.now();
      if (wait > 2) await sleep(wait);
      const pending = join(arrivals[i]).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
    await Promise.all(inFlight);
    const joinWallS = (performance.now() - joinStarted) / 1000;
    const joinCpu = cpuBetween(cpuBefore, ctx.processes.cpuSnapshot());
    const memoryJoined = await usedMemory(redis);
    const placesBefore = Number(await redis.scard(`${PREFIX}:{${sessionId}}:early`));

    // ---- the opening: snapshot the drawn order as soon as the ticker has opened the queue.
    while ((await redis.hget(keys.config, 'state')) !== 'open') await sleep(10);
    const openedSeenAt = performance.now();
    const [snapshot, admittedAtOpening] = await Promise.all([redis.zrange(keys.queue, 0, -1, 'WITHSCORES'), redis.zrange(keys.admitted, 0, -1)]);
    const memoryOpen = await usedMemory(redis);
    const place = new Map();
    for (let i = 0; i < snapshot.length; i += 2) place.set(snapshot[i], Number(snapshot[i + 1]));
    // Those admitted before the snapshot had the first places (the admit script pops the lowest); which of them
    // had which is checked below against their admission ticks.
    const drawnCount = place.size + admittedAtOpening.length;
    const joinOrderIndex = new Map(buyers.map((buyer, i) => [buyer.id, i]));
    // Kendall-style sanity: a fair draw keeps about half the pairs of neighbours in join order.
    const drawn = [...place.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    let keptPairs = 0;
    for (let i = 1; i < drawn.length; i++) if (joinOrderIndex.get(drawn[i - 1]) < joinOrderIndex.get(drawn[i])) keptPairs += 1;

    // ---- status streams held by the buyers at the back of the drawn order (they will be told SOLD_OUT).
    const back = drawn.slice(-streamCount).map((id) => byId.get(id));
    const streams = back.map((buyer) => followStream(booking.url, `/api/v1/queue/${buyer.ticket}/stream`, buyer.headers));

    // ---- the sale: buyers admitted (as the admitted set shows) read their token, hold one seat and pay.
    const seats = [...session.seats];
    const admissionTick = new Map(); // user -> hold-window deadline = admission tick + window
    const purchases = [];
    let lastConfirmAt = 0;
    let confirmed = 0;
    let probes = 0;
    let probeLeaks = 0;
    let saleErrors = 0;
    const buy = async (buyer) => {
      const status = await withRetries(() => booking.json('GET', `/api/v1/queue/${buyer.ticket}`, { headers: buyer.headers }));
      const token = status.json?.admission?.token;
      if (!token) return void (saleErrors += 1);
      const seat = seats.pop();
      if (!seat) return;
      const body = `{"session_id":"${sessionId}","seats":[{"session_seat_id":"${seat}"}]}`;
      if (probes < 200) {
        // Misuse probes: the same hold without a token, and with this buyer's token by another user.
        probes += 2;
        const [none, stolen] = await Promise.all([
          booking.request('POST', '/api/v1/reservations', { headers: buyer.headers, body }),
          booking.request('POST', '/api/v1/reservations', { headers: { ...buyerHeaders(randomUUID()), 'x-queue-admission': token }, body }),
        ]);
        if (none.status !== 403) probeLeaks += 1;
        if (stolen.status !== 403) probeLeaks += 1;
      }
      const holdHeaders = { ...buyer.headers, 'x-queue-admission': token, 'idempotency-key': randomUUID() };
      const hold = await withRetries(() => booking.json('POST', '/api/v1/reservations', { headers: holdHeaders, body }));
      if (hold.status !== 201) {
        seats.push(seat);
        saleErrors += 1;
        return;
      }
      const payment = `{"payment_id":"bench-${hold.json.id}"}`;
      const paid = await withRetries(() => booking.request('POST', `/api/v1/reservations/${hold.json.id}/confirm`, { headers: buyer.headers, body: payment }));
      if (paid.status !== 200) {
        // A hold left behind would keep the session from selling out until it expires: give the seat back.
        const cancelled = await withRetries(() => booking.request('DELETE', `/api/v1/reservations/${hold.json.id}`, { headers: buyer.headers }));
        if (cancelled.status === 200) seats.push(seat);
        saleErrors += 1;
        return;
      }
      confirmed += 1;
      lastConfirmAt = performance.now();
    };
    let soldOutFlagAt;
    let allSoldAt;
    let lastSoldCheck = 0;
    const soldSeats = async () =>
      Number((await ctx.eventDb.query("SELECT count(*) AS n FROM session_seats WHERE session_id = $1 AND status = 'sold'", [sessionId])).rows[0].n);
    let seenUpTo = '-inf';
    const saleDeadline = performance.now() + 180_000;
    while (!soldOutFlagAt && performance.now() < saleDeadline) {
      // Deadlines grow with every tick: read only the admissions of ticks not seen yet.
      const [admitted, soldOut] = await Promise.all([redis.zrangebyscore(keys.admitted, seenUpTo, '+inf', 'WITHSCORES'), redis.hget(keys.config, 'sold_out')]);
      if (soldOut === '1') soldOutFlagAt = performance.now();
      // The moment the session sold out: the event DB shows every seat sold (the consumer applied the last confirm).
      if (!allSoldAt && confirmed >= session.seatCount && performance.now() - lastSoldCheck >= 50) {
        lastSoldCheck = performance.now();
        if ((await soldSeats()) === session.seatCount) allSoldAt = lastSoldCheck;
      }
      for (let i = 0; i < admitted.length; i += 2) {
        seenUpTo = admitted[i + 1];
        if (admissionTick.has(admitted[i])) continue;
        admissionTick.set(admitted[i], Number(admitted[i + 1]));
        const buyer = byId.get(admitted[i]);
        if (buyer) purchases.push(buy(buyer));
      }
      await sleep(soldOutFlagAt ? 0 : 50);
    }
    await Promise.all(purchases);
    const streamsDeadline = setTimeout(() => streams.forEach((stream) => stream.close()), 10_000);
    const told = await Promise.all(streams.map((stream) => stream.done));
    clearTimeout(streamsDeadline);
    const lastToldAt = Math.max(...told.map((t) => t.at));
    const notTold = told.filter((t) => t.status !== 'SOLD_OUT').length;
    // Pollers: a sample of the other waiting buyers reads its status once the flag is set.
    const sample = drawn
      .slice(0, drawn.length - streamCount)
      .filter((id) => !admissionTick.has(id))
      .slice(-1_000)
      .map((id) => byId.get(id));
    const polled = await Promise.all(sample.map((buyer) => withRetries(() => booking.json('GET', `/api/v1/queue/${buyer.ticket}`, { headers: buyer.headers }))));
    const pollersNotTold = polled.filter((r) => r.json?.status !== 'SOLD_OUT').length;

    // ---- checks
    const admittedIds = [...admissionTick.keys()];
    const admittedAtOpeningSet = new Set(admittedAtOpening);
    // Admission order = drawn order: ordered by drawn place, admission ticks never go backwards.
    const withPlace = admittedIds.filter((id) => place.has(id)).map((id) => [place.get(id), admissionTick.get(id)]).sort((a, b) => a[0] - b[0]);
    let orderViolations = 0;
    for (let i = 1; i < withPlace.length; i++) if (withPlace[i][1] < withPlace[i - 1][1]) orderViolations += 1;
    // Everyone admitted after the snapshot had exactly the first places after those admitted before it.
    const expectedPlaces = withPlace.map((_, i) => admittedAtOpening.length + i + 1);
    const placeGaps = withPlace.filter(([p], i) => p !== expectedPlaces[i]).length;
    const unknownAdmitted = admittedIds.filter((id) => !place.has(id) && !admittedAtOpeningSet.has(id)).length;
    const { rows: reservations } = await ctx.bookingDb.query('SELECT user_id::text AS user_id FROM reservations WHERE session_id = $1', [sessionId]);
    const withoutAdmission = reservations.filter((row) => !admissionTick.has(row.user_id)).length;
    const joinErrorsCount = [...joinErrors.values()].reduce((a, b) => a + b, 0);
    const latency = summarize(joins);
    const memoryPerBuyerEarly = (memoryJoined - memoryBefore) / buyersCount;
    const memoryPerBuyerQueued = (memoryOpen - memoryBefore) / buyersCount;
    const soldMs = soldOutFlagAt && allSoldAt ? soldOutFlagAt - allSoldAt : NaN;
    const toldMs = allSoldAt && notTold === 0 ? lastToldAt - allSoldAt : NaN;
    const seatStates = (await ctx.eventDb.query('SELECT status, count(*)::int AS n FROM session_seats WHERE session_id = $1 GROUP BY status', [sessionId])).rows;
    if (joinErrorsCount) violations.push(`waiting room: ${joinErrorsCount} join errors ${JSON.stringify(Object.fromEntries(joinErrors))}`);
    if (orderViolations || placeGaps || unknownAdmitted) violations.push(`waiting room: admission order differs from the drawn order (${orderViolations} inversions, ${placeGaps} skipped places, ${unknownAdmitted} unknown)`);
    if (withoutAdmission || probeLeaks) violations.push(`waiting room: ${withoutAdmission} reservations by buyers never admitted, ${probeLeaks} probes without a valid token not refused`);
    if (notTold || pollersNotTold) violations.push(`waiting room: ${notTold} streams and ${pollersNotTold} polled buyers not told SOLD_OUT`);
    if ((lateJoins === 0 && placesBefore !== buyersCount) || drawnCount !== tickets) violations.push(`waiting room: ${placesBefore} early places / ${drawnCount} drawn for ${buyersCount} buyers (second tabs must not add places)`);
    notes.push(
      `time: ${buyersCount.toLocaleString('en-US')} buyers joined over ${joinS} s (the issue: a minute) at ${round(arrivals.length / joinWallS)} joins/s incl. second tabs; hold window ${HOLD_WINDOW_S} s; ` +
        `${tickets} queue tickets (${lateJoins} joins answered after the opening, queued in arrival order); the ticker opened the queue ${round((openedSeenAt - joinStarted) / 1000 - joinS, 1)} s after the last join was due`,
      `admission: ${admissionTick.size} admitted before the sale stopped (${saleErrors} buyer flows failed); ` +
        `neighbours in the drawn order kept in join order: ${round((100 * keptPairs) / Math.max(drawn.length - 1, 1), 1)} % (a fair draw: ~50 %)`,
      `sold out: ${confirmed} confirms, the last ${allSoldAt ? round((allSoldAt - lastConfirmAt) / 1000, 1) : '?'} s before the event DB showed every seat sold; ` +
        `flag set ${round(soldMs)} ms after that; ${streamCount - notTold} of ${streamCount} status streams told within ${round(toldMs)} ms of it; ` +
        `${sample.length - pollersNotTold} of ${sample.length} polled buyers read SOLD_OUT; seats at the end ${JSON.stringify(Object.fromEntries(seatStates.map((r) => [r.status, r.n])))}`,
      `Redis used_memory: +${round((memoryJoined - memoryBefore) / 1048576, 1)} MB after the joins, +${round((memoryOpen - memoryBefore) / 1048576, 1)} MB once queued (shared Redis: other helpers' keys move it too)`,
      `join CPU (product processes, ${round(joinWallS, 1)} s): ${Object.entries(joinCpu.used).map(([name, s]) => `${name} ${s.toFixed(1)} s = ${((s * 1000) / arrivals.length).toFixed(3)} ms/join`).join(', ')}`,
    );
    return {
      key: 'waiting_room',
      title: `7 waiting room — ${buyersCount.toLocaleString('en-US')} buyers join a ${session.seatCount.toLocaleString('en-US')}-seat session in ${joinS} s; ${RATE} admissions/s`,
      figures: [
        { key: 'join_p50_ms', label: 'join latency p50', value: round(latency.p50), unit: 'ms' },
        { key: 'join_p99_ms', label: 'join latency p99', value: round(latency.p99), unit: 'ms' },
        { key: 'join_errors', label: 'join errors', value: joinErrorsCount, target: TARGETS.zero },
        { key: 'order_violations', label: 'admissions out of drawn order', value: orderViolations + placeGaps + unknownAdmitted, target: TARGETS.zero },
        { key: 'without_token', label: 'reservations without admission', value: withoutAdmission + probeLeaks, target: TARGETS.zero },
        { key: 'told_ms', label: 'all seats sold → every open stream told', value: round(toldMs), unit: 'ms', target: TARGETS.toldMs },
        { key: 'not_told', label: 'waiting buyers not told SOLD_OUT', value: notTold + pollersNotTold, target: TARGETS.zero },
        { key: 'redis_bytes_early', label: 'Redis per buyer before opening', value: round(memoryPerBuyerEarly), unit: 'B' },
        { key: 'redis_bytes_queued', label: 'Redis per queued buyer', value: round(memoryPerBuyerQueued), unit: 'B' },
      ],
      notes,
      violations,
      cpu: joinCpu,
      work: { count: arrivals.length, unit: 'join' },
    };
  } finally {
    const leftovers = await redis.keys(`${PREFIX}:*`).catch(() => []);
    if (leftovers.length) await redis.del(...leftovers).catch(() => undefined);
    await redis.quit();
  }
}

module.exports = { waitingRoom };
