'use strict';
/**
 * Builds the benchmark's catalog through the event service's public API, like an organizer would:
 * organizer -> location -> one hall per session (seats in one bulk call) -> event -> sessions. Then reads
 * each session's seat map once to learn its session seat ids, by row.
 */
const { randomUUID } = require('node:crypto');
const { organizerHeaders } = require('./bench-identity');
const { expectStatus } = require('./http-client');

/**
 * @param client event-service client from createClient
 * @param specs Array<{ key, rows, seatsPerRow, vipRows? }>; rows 1..vipRows are seat_type "vip" (1.5× price)
 * @returns Map key -> { sessionId, hallId, seatCount, rows: string[][] (session seat ids, front row first), seats: string[] }
 */
async function buildCatalog(client, specs, log = () => {}) {
  const tag = randomUUID().slice(0, 8);
  const headers = organizerHeaders();
  const organizer = expectStatus('organizer', await client.json('POST', '/api/v1/organizers', {
    headers,
    body: { name: `Bench Organizer ${tag}`, description: 'on-sale benchmark', contact_email: 'bench@example.com', contact_phone: '+10000000000' },
  }), 201);
  const location = expectStatus('location', await client.json('POST', '/api/v1/locations', {
    headers,
    body: { name: `Bench Arena ${tag}`, address: '1 Load Street', city: 'Benchville', country: 'NL', timezone: 'Europe/Amsterdam', organizer_id: organizer.id },
  }), 201);
  const show = expectStatus('event', await client.json('POST', '/api/v1/events', {
    headers,
    body: { title: `On-sale ${tag}`, description: 'on-sale benchmark', event_type: 'concert', organizer_id: organizer.id },
  }), 201);
  const start = new Date(Date.now() + 30 * 24 * 3600_000);
  const sessions = new Map();
  for (const spec of specs) {
    const started = Date.now();
    const total = spec.rows * spec.seatsPerRow;
    const hall = expectStatus(`hall ${spec.key}`, await client.json('POST', `/api/v1/locations/${location.id}/halls`, {
      headers,
      body: { name: `Hall ${spec.key}`, capacity: total },
    }), 201);
    const seats = [];
    for (let row = 1; row <= spec.rows; row++) {
      const seatType = row <= (spec.vipRows ?? 0) ? 'vip' : 'standard';
      for (let seat = 1; seat <= spec.seatsPerRow; seat++) seats.push({ row_number: String(row), seat_number: String(seat), seat_type: seatType });
    }
    const created = expectStatus(`bulk seats ${spec.key}`, await client.json('POST', `/api/v1/halls/${hall.id}/seats/bulk`, {
      headers,
      body: { seats },
    }), 201);
    if (created.created !== total) throw new Error(`bulk seats ${spec.key}: created ${created.created} of ${total}`);
    const session = expectStatus(`session ${spec.key}`, await client.json('POST', '/api/v1/sessions', {
      headers,
      body: {
        event_id: show.id,
        hall_id: hall.id,
        start_time: start.toISOString(),
        end_time: new Date(start.getTime() + 3 * 3600_000).toISOString(),
        base_price: 40,
        seat_type_multipliers: { vip: 1.5 },
      },
    }), 201);
    const map = expectStatus(`seat map ${spec.key}`, await client.json('GET', `/api/v1/sessions/${session.id}/seat-map`), 200);
    const rows = Array.from({ length: spec.rows }, () => []);
    for (const seat of map.seats) rows[Number(seat.row_number) - 1].push({ id: seat.session_seat_id, n: Number(seat.seat_number) });
    const byRow = rows.map((row) => row.sort((a, b) => a.n - b.n).map((seat) => seat.id));
    if (byRow.some((row) => row.length !== spec.seatsPerRow)) throw new Error(`seat map ${spec.key}: unexpected shape`);
    sessions.set(spec.key, { sessionId: session.id, hallId: hall.id, seatCount: total, rows: byRow, seats: byRow.flat() });
    log(`  ${spec.key}: session ${session.id}, ${total.toLocaleString('en-US')} seats (${spec.rows} rows × ${spec.seatsPerRow}) in ${Date.now() - started} ms`);
  }
  return sessions;
}

module.exports = { buildCatalog };
