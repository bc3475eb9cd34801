#!/usr/bin/env node
/**
 * Smoke test against any running deployment (local `npm start`, a port-forwarded cluster, staging):
 *   npm run test:smoke -- --event-url http://localhost:8000 --booking-url http://localhost:8001
 * Builds a fresh catalog through the public API, then walks the seed's flow to a sold seat and a ticket.
 * Plain JavaScript on purpose: it runs with nothing but Node 20, anywhere.
 */
'use strict';

const { randomUUID } = require('node:crypto');

class SmokeFailure extends Error {}

function client(baseUrl, defaultHeaders = {}) {
  return async function call(method, path, body, headers = {}) {
    const response = await fetch(baseUrl + path, {
      method,
      headers: { 'content-type': 'application/json', ...defaultHeaders, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const type = response.headers.get('content-type') ?? '';
    const payload = type.includes('json') ? await response.json() : Buffer.from(await response.arrayBuffer());
    return { status: response.status, body: payload, type };
  };
}

function expectStatus(step, response, status) {
  if (response.status !== status) {
    throw new SmokeFailure(`${step}: expected HTTP ${status}, got ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  }
  return response.body;
}

async function waitFor(step, probe, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new SmokeFailure(`${step}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Runs every step; resolves with a list of {step, ms} or rejects with the first failure.
 * `log` receives one line per passed step.
 */
async function runSmoke({ eventUrl, bookingUrl, userId = randomUUID(), soldTimeoutMs = 10_000, log = () => {} }) {
  const event = client(eventUrl);
  const booking = client(bookingUrl, { 'X-User-ID': userId });
  const results = [];
  const step = async (name, fn) => {
    const started = Date.now();
    const value = await fn();
    const ms = Date.now() - started;
    results.push({ step: name, ms });
    log(`✓ ${name} (${ms} ms)`);
    return value;
  };
  const tag = randomUUID().slice(0, 8);

  await step('both services are healthy', async () => {
    expectStatus('event /health', await event('GET', '/health'), 200);
    expectStatus('booking /health', await booking('GET', '/health'), 200);
  });
  const session = await step('build a catalog: organizer → location → hall → seats → event → session', async () => {
    const organizer = expectStatus('organizer', await event('POST', '/api/v1/organizers', {
      name: `Smoke Organizer ${tag}`, description: 'smoke test', contact_email: 'smoke@example.com', contact_phone: '+10000000000',
    }), 201);
    const location = expectStatus('location', await event('POST', '/api/v1/locations', {
      name: `Smoke Venue ${tag}`, address: '1 Test Street', city: 'Testville', country: 'NL', timezone: 'Europe/Amsterdam',
    }), 201);
    const hall = expectStatus('hall', await event('POST', `/api/v1/locations/${location.id}/halls`, { name: 'Smoke Hall', capacity: 10 }), 201);
    const seats = [];
    for (let row = 1; row <= 2; row++) for (let seat = 1; seat <= 5; seat++) seats.push({ row_number: String(row), seat_number: String(seat), seat_type: 'standard' });
    expectStatus('bulk seats', await event('POST', `/api/v1/halls/${hall.id}/seats/bulk`, { seats }), 201);
    const show = expectStatus('event', await event('POST', '/api/v1/events', {
      title: `Smoke Show ${tag}`, description: 'smoke test', event_type: 'concert', organizer_id: organizer.id,
    }), 201);
    const start = new Date(Date.now() + 7 * 24 * 3600_000);
    return expectStatus('session', await event('POST', '/api/v1/sessions', {
      event_id: show.id, hall_id: hall.id, start_time: start.toISOString(),
      end_time: new Date(start.getTime() + 2 * 3600_000).toISOString(), base_price: 42.5,
    }), 201);
  });
  const seatMap = async () => expectStatus('seat map', await event('GET', `/api/v1/sessions/${session.id}/seat-map`), 200);
  const chosen = await step('seat map lists 10 available seats', async () => {
    const map = await seatMap();
    if (map.seats.length !== 10 || map.seats.some((s) => s.status !== 'available')) {
      throw new SmokeFailure(`seat map: expected 10 available seats, got ${JSON.stringify(map.seats.map((s) => s.status))}`);
    }
    return map.seats[0];
  });
  const reservation = await step('reserve one seat', async () => {
    const body = expectStatus('reservation', await booking('POST', '/api/v1/reservations', {
      session_id: session.id, seats: [{ session_seat_id: chosen.session_seat_id }],
    }), 201);
    if (body.status !== 'active' || body.total_amount !== 42.5) throw new SmokeFailure(`reservation: unexpected body ${JSON.stringify(body)}`);
    return body;
  });
  // The public seat map is cached for up to SEAT_MAP_CACHE_MS (500 ms by default), so allow it to catch up.
  await step('seat shows reserved', () =>
    waitFor('reserved', async () => (await seatMap()).seats.find((s) => s.session_seat_id === chosen.session_seat_id).status === 'reserved', 3000),
  );
  await step('confirm with a mock payment', async () => {
    const body = expectStatus('confirm', await booking('POST', `/api/v1/reservations/${reservation.id}/confirm`, { payment_id: `smoke-${tag}` }), 200);
    if (body.status !== 'confirmed') throw new SmokeFailure(`confirm: status ${body.status}`);
  });
  await step('seat shows sold (through RabbitMQ)', () =>
    waitFor('sold', async () => (await seatMap()).seats.find((s) => s.session_seat_id === chosen.session_seat_id).status === 'sold', soldTimeoutMs),
  );
  await step('ticket with QR code, and its PNG', async () => {
    const tickets = expectStatus('tickets', await booking('GET', `/api/v1/tickets/user/${userId}`), 200);
    const ticket = tickets.find((t) => t.reservation_id === reservation.id);
    if (!ticket || !String(ticket.qr_code).startsWith('data:image/png;base64,')) throw new SmokeFailure('tickets: no ticket with a QR code');
    const qr = await booking('GET', `/api/v1/tickets/${ticket.id}/qr`);
    if (qr.status !== 200 || qr.type !== 'image/png') throw new SmokeFailure(`qr: HTTP ${qr.status} ${qr.type}`);
  });
  return results;
}

function parseArgs(argv) {
  const options = { eventUrl: process.env.EVENT_URL ?? 'http://localhost:8000', bookingUrl: process.env.BOOKING_URL ?? 'http://localhost:8001' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--event-url') options.eventUrl = argv[++i];
    else if (argv[i] === '--booking-url') options.bookingUrl = argv[++i];
    else if (argv[i] === '--help') {
      console.log('Usage: npm run test:smoke -- --event-url URL --booking-url URL');
      process.exit(0);
    } else throw new SmokeFailure(`unknown argument ${argv[i]}`);
  }
  return options;
}

if (require.main === module) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(error.message);
    process.exit(2);
  }
  console.log(`Smoke test against event ${options.eventUrl} and booking ${options.bookingUrl}`);
  runSmoke({ ...options, log: (line) => console.log(line) })
    .then((results) => {
      console.log(`smoke: ${results.length} passed, 0 failed`);
    })
    .catch((error) => {
      console.error(`✗ ${error.message}`);
      console.log('smoke: 0 passed, 1 failed');
      process.exit(1);
    });
}

module.exports = { runSmoke, SmokeFailure };
