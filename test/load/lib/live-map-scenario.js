'use strict';
/**
 * Scenario 8 (issue 14): the live seat map at capacity. 200 bookings/s land on one 20,000-seat session, first
 * with nobody watching (the baseline), then while 2,000 clients follow GET /sessions/{id}/seat-map/stream.
 * Measured: change → client delay (every 20th subscriber parses its events; the others only read), the event
 * API's RSS against its chart memory limit, and booking latency against the baseline.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { buyerHeaders } = require('./bench-identity');
const { summarize, ratePerSecond, round, countBy } = require('./stats');
const { openLoop, sleep } = require('./drivers');
const { readMemory, cpuBetween } = require('./processes');

const TARGETS = {
  lagP99: { op: '<=', value: 500 },
  /** The chart's eventService.api.resources.limits.memory (384Mi). */
  rssMb: { op: '<=', value: 384 },
  latencyRatio: { op: '<=', value: 1.5 },
  zero: { op: '==', value: 0 },
};

const SUBSCRIBERS = 2_000;
const SAMPLE_EVERY = 20;
const BOOKING_RATE = 200;
const CONNECT_BATCH = 100;
const BOUNDARY = Buffer.from('\n\n');

/**
 * One SSE client. Snapshots (4 MB here) are skipped without being assembled; when `onSeats` is given, `seats`
 * events are parsed and handed over with their arrival time.
 */
function subscribe(baseUrl, sessionId, onSeats) {
  const state = { status: 0, snapshot: false, events: 0, bytes: 0, closed: false, closedByServer: false, request: undefined };
  let skipping = false;
  let pending = [];
  let atEventStart = true;
  const consume = (chunk) => {
    let offset = 0;
    while (offset < chunk.length) {
      if (atEventStart) {
        // Without Last-Event-ID the first event is the snapshot (4 MB here): skipped, never assembled.
        skipping = !state.snapshot;
        atEventStart = false;
      }
      const end = chunk.indexOf(BOUNDARY, offset);
      if (end === -1) {
        if (!skipping && onSeats) pending.push(chunk.subarray(offset));
        // A boundary split across chunks ("\n" | "\n") is caught by the check below on the next chunk.
        state.splitNewline = chunk[chunk.length - 1] === 10;
        return;
      }
      const body = skipping || !onSeats ? undefined : Buffer.concat([...pending, chunk.subarray(offset, end)]).toString('utf8');
      pending = [];
      if (skipping) state.snapshot = true;
      else {
        state.events += 1;
        if (body) {
          const data = body.split('\n').find((line) => line.startsWith('data: '));
          if (data && body.includes('event: seats')) onSeats(JSON.parse(data.slice(6)), performance.now());
        }
      }
      skipping = false;
      atEventStart = true;
      offset = end + 2;
    }
  };
  const ready = new Promise((resolve) => {
    const request = http.get(`${baseUrl}/api/v1/sessions/${sessionId}/seat-map/stream`, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
      state.status = response.statusCode;
      response.on('data', (chunk) => {
        state.bytes += chunk.length;
        if (state.splitNewline && chunk[0] === 10) {
          // "\n\n" straddled two chunks: finish the event, continue after it.
          state.splitNewline = false;
          consume(Buffer.concat([Buffer.from('\n'), chunk]));
          return;
        }
        state.splitNewline = false;
        consume(chunk);
        if (state.snapshot) resolve();
      });
      response.on('close', () => {
        if (!state.closed) state.closedByServer = true;
        resolve();
      });
      if (response.statusCode !== 200) response.resume();
    });
    request.on('error', () => resolve());
    state.request = request;
  });
  return {
    state,
    ready,
    close() {
      state.closed = true;
      state.request?.destroy();
    },
  };
}

async function bookingPhase(ctx, session, seats, durationMs, onBooked) {
  const latencies = [];
  const statuses = [];
  let next = 0;
  const task = async () => {
    if (next >= seats.length) return;
    const seatId = seats[next++];
    const sentAt = performance.now();
    const response = await ctx.booking.request('POST', '/api/v1/reservations', {
      headers: buyerHeaders(randomUUID()),
      body: `{"session_id":"${session.sessionId}","seats":[{"session_seat_id":"${seatId}"}]}`,
    });
    latencies.push(response.ms);
    statuses.push(response.status === 0 ? `net:${response.error}` : String(response.status));
    if (response.status === 201) onBooked?.(seatId, sentAt, response.ended);
  };
  const started = performance.now();
  await openLoop({ ratePerSecond: BOOKING_RATE, durationMs, task });
  const ms = performance.now() - started;
  return { latency: summarize(latencies), statuses: countBy(statuses), ok: statuses.filter((status) => status === '201').length, ms, used: next };
}

function eventApiRss(ctx) {
  const record = ctx.processes.children.find((child) => child.name === 'event-api' && !child.exited);
  return record ? readMemory(record.child.pid)?.rss ?? 0 : 0;
}

async function serverMetrics(ctx) {
  const response = await ctx.event.request('GET', '/metrics');
  const text = response.body.toString('utf8');
  const value = (pattern) => Number((new RegExp(`^${pattern}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text) ?? [])[1] ?? NaN);
  return {
    subscribers: value('seat_map_stream_subscribers'),
    dropped: value('seat_map_stream_dropped_clients_total'),
    lagCount: value('seat_map_stream_lag_seconds_count'),
    lagSum: value('seat_map_stream_lag_seconds_sum'),
  };
}

async function liveSeatMapAtCapacity(ctx) {
  const session = ctx.catalog.get('live');
  const phaseMs = ctx.durationMs;
  const seats = session.seats;
  const baselineSeats = seats.slice(0, Math.floor(seats.length / 2));
  const watchedSeats = seats.slice(Math.floor(seats.length / 2));

  // 1. Baseline: the bookings with nobody watching.
  ctx.log(`  baseline: ${BOOKING_RATE} bookings/s for ${phaseMs / 1000} s, no subscribers`);
  await bookingPhase(ctx, session, baselineSeats.slice(0, 400), 2_000); // warm-up
  const cpuBaselineStart = ctx.processes.cpuSnapshot();
  const baseline = await bookingPhase(ctx, session, baselineSeats.slice(400), phaseMs);
  const cpuBaseline = cpuBetween(cpuBaselineStart, ctx.processes.cpuSnapshot());
  const rssBefore = eventApiRss(ctx);

  // 2. 2,000 subscribers, connected in batches (each gets the 4 MB snapshot).
  const arrivals = []; // per sampled subscriber: Map seat id -> arrival time
  const clients = [];
  const connectStarted = performance.now();
  for (let i = 0; i < SUBSCRIBERS; i += CONNECT_BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(SUBSCRIBERS, i + CONNECT_BATCH); j += 1) {
      let onSeats;
      if (j % SAMPLE_EVERY === 0) {
        const seen = new Map();
        arrivals.push(seen);
        onSeats = (event, at) => {
          for (const seat of event.seats) if (seat.status === 'reserved' && !seen.has(seat.session_seat_id)) seen.set(seat.session_seat_id, at);
        };
      }
      const client = subscribe(ctx.eventUrl, session.sessionId, onSeats);
      clients.push(client);
      batch.push(client.ready);
    }
    await Promise.race([Promise.all(batch), sleep(30_000)]);
  }
  const connectMs = performance.now() - connectStarted;
  const withSnapshot = clients.filter((client) => client.state.snapshot).length;
  const refused = countBy(clients.filter((client) => client.state.status !== 200).map((client) => String(client.state.status)));
  const rssConnected = eventApiRss(ctx);
  ctx.log(`  ${withSnapshot} of ${SUBSCRIBERS} subscribers got their snapshot in ${round(connectMs / 1000)} s; event-api RSS ${round(rssConnected / 1048576)} MB`);
  await sleep(1_000);

  // 3. The same bookings while they watch.
  const booked = new Map(); // seat id -> { sentAt, answeredAt }
  let rssPeak = rssConnected;
  const rssSampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, eventApiRss(ctx));
  }, 250);
  const metricsBefore = await serverMetrics(ctx);
  await bookingPhase(ctx, session, watchedSeats.slice(0, 400), 2_000); // warm-up
  const cpuWatchedStart = ctx.processes.cpuSnapshot();
  const watched = await bookingPhase(ctx, session, watchedSeats.slice(400), phaseMs, (seatId, sentAt, answeredAt) => booked.set(seatId, { sentAt, answeredAt }));
  const cpuWatched = cpuBetween(cpuWatchedStart, ctx.processes.cpuSnapshot());
  await sleep(2_000); // the last changes' way to the clients
  clearInterval(rssSampler);
  const metricsAfter = await serverMetrics(ctx);
  const droppedByServer = clients.filter((client) => client.state.closedByServer).length;
  const bytes = clients.reduce((sum, client) => sum + client.state.bytes, 0);
  for (const client of clients) client.close();

  const fromAnswer = [];
  const fromRequest = [];
  let missing = 0;
  for (const seen of arrivals) {
    for (const [seatId, { sentAt, answeredAt }] of booked) {
      const at = seen.get(seatId);
      if (at === undefined) {
        missing += 1;
        continue;
      }
      fromAnswer.push(Math.max(0, at - answeredAt));
      fromRequest.push(at - sentAt);
    }
  }
  const lagAnswer = summarize(fromAnswer);
  const lagRequest = summarize(fromRequest);
  const ratioP99 = watched.latency.p99 / baseline.latency.p99;
  const ratioP50 = watched.latency.p50 / baseline.latency.p50;
  const serverLagMeanMs = ((metricsAfter.lagSum - metricsBefore.lagSum) / (metricsAfter.lagCount - metricsBefore.lagCount)) * 1000;
  const mb = (bytes) => round(bytes / 1048576);
  return {
    key: 'live_seat_map',
    title: `7. Live seat map — ${SUBSCRIBERS.toLocaleString('en-US')} subscribers of one ${session.seatCount.toLocaleString('en-US')}-seat session while ${BOOKING_RATE} bookings/s land, ${round(phaseMs / 1000)} s (and the same bookings unwatched)`,
    figures: [
      { key: 'change_to_client_p99_ms', label: 'change → client p99 (from the booking’s answer)', value: round(lagAnswer.p99), unit: 'ms', target: TARGETS.lagP99, note: `p50 ${round(lagAnswer.p50)} ms, max ${round(lagAnswer.max)} ms; ${fromAnswer.length} deliveries to ${arrivals.length} sampled subscribers` },
      { key: 'request_to_client_p99_ms', label: 'booking request sent → client p99 (upper bound)', value: round(lagRequest.p99), unit: 'ms', note: `p50 ${round(lagRequest.p50)} ms` },
      { key: 'missed_changes', label: 'changes a sampled subscriber never got', value: missing, target: TARGETS.zero },
      { key: 'event_api_rss_mb', label: 'event-api RSS peak with subscribers', value: mb(rssPeak), unit: 'MB', target: TARGETS.rssMb, note: `before ${mb(rssBefore)} MB, after connecting ${mb(rssConnected)} MB (chart limit 384Mi)` },
      { key: 'booking_p99_ratio', label: 'booking p99 watched / unwatched', value: round(ratioP99), target: TARGETS.latencyRatio, note: `${round(watched.latency.p99)} vs ${round(baseline.latency.p99)} ms` },
      { key: 'booking_p50_ratio', label: 'booking p50 watched / unwatched', value: round(ratioP50), note: `${round(watched.latency.p50)} vs ${round(baseline.latency.p50)} ms` },
      { key: 'bookings_per_s', label: 'bookings/s achieved, watched (unwatched)', value: round(ratePerSecond(watched.ok, watched.ms)), unit: '/s', note: `${round(ratePerSecond(baseline.ok, baseline.ms))}/s unwatched` },
      { key: 'subscribers_connected', label: 'subscribers with their snapshot', value: withSnapshot, note: `in ${round(connectMs / 1000)} s${Object.keys(refused).length ? `; refused ${JSON.stringify(refused)}` : ''}` },
      { key: 'dropped_subscribers', label: 'subscribers dropped by the server', value: droppedByServer, target: TARGETS.zero, note: `server counter +${metricsAfter.dropped - metricsBefore.dropped}` },
      { key: 'server_lag_mean_ms', label: 'server publish → written mean', value: round(serverLagMeanMs), unit: 'ms' },
      {
        key: 'event_api_cpu_ms_per_booking',
        label: 'event-api CPU per booking, watched (unwatched)',
        value: round(((cpuWatched.used?.['event-api'] ?? NaN) * 1000) / watched.ok),
        unit: 'ms',
        note: `${round(((cpuBaseline.used?.['event-api'] ?? NaN) * 1000) / baseline.ok)} ms unwatched`,
      },
    ],
    details: {
      baseline: { ...baseline, latency: baseline.latency },
      watched,
      lagFromAnswer: lagAnswer,
      lagFromRequest: lagRequest,
      bytesToSubscribers: bytes,
      metricsBefore,
      metricsAfter,
      cpuBaseline,
    },
    notes: [
      'change → client: a booking’s 201 (its hold committed at the event service before) until a subscriber parsed the seat as reserved, on the load generator’s clock; a delivery before the 201 counts 0',
      `load generator: ${SUBSCRIBERS} SSE connections in the same process as the booking driver (every ${SAMPLE_EVERY}th parses events); ${mb(bytes)} MB received in all`,
    ],
    cpu: cpuWatched,
    work: { unit: 'booking', count: watched.ok },
    violations: missing ? [`${missing} seat changes never reached a sampled subscriber`] : [],
  };
}

module.exports = { liveSeatMapAtCapacity, TARGETS };
