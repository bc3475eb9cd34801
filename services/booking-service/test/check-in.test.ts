import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { RunningBookingApi } from '../src/entry-points/api';
import { issueTicketCode, qrContent } from '../src/domain/ticket-code';
import {
  asUser,
  confirmedPurchase,
  createTestSession,
  newUser,
  request,
  startBookingSide,
  stopBookingSide,
  useBookingSystem,
} from './support/harness';

const system = useBookingSystem({ booking: true });
const door = newUser();

interface Ticket {
  id: string;
  code: string;
  session_id: string;
  session_seat_id: string;
  user_id: string;
  reservation_id: string;
  row_number: string;
  seat_number: string;
}

async function confirmedTickets(seats = 1, bookingUrl = system.booking.url) {
  const { buyer, sessionId, confirmed } = await confirmedPurchase(system.event.url, bookingUrl, seats);
  return { buyer, sessionId, tickets: confirmed.body.tickets as Ticket[] };
}

const scan = (code: string, sessionId: string, gate?: string, url = system.booking.url) =>
  request(url, 'POST', '/api/v1/check-ins', { ...asUser(door), body: { code, session_id: sessionId, ...(gate ? { gate } : {}) } });

const upload = (sessionId: string, scans: unknown[], url = system.booking.url) =>
  request(url, 'POST', '/api/v1/check-ins/batch', { ...asUser(door), body: { session_id: sessionId, scans } });

describe('checking a ticket in at the door', () => {
  test('when a ticket is scanned the first time, then it is admitted with its seat and holder, and the ticket shows it used', async () => {
    const { buyer, sessionId, tickets } = await confirmedTickets();
    const [ticket] = tickets;

    const admitted = await scan(ticket.code, sessionId, 'north-1');

    expect(admitted.status).toBe(200);
    expect(admitted.body).toEqual({
      result: 'ADMITTED',
      ticket_id: ticket.id,
      session_id: sessionId,
      seat: { session_seat_id: ticket.session_seat_id, row_number: '1', seat_number: '1' },
      holder: { user_id: buyer, reservation_id: ticket.reservation_id },
      admitted_at: expect.any(String),
      gate: 'north-1',
    });
    const after = await request(system.booking.url, 'GET', `/api/v1/tickets/${ticket.id}`, asUser(buyer));
    expect(after.body).toMatchObject({ status: 'used', is_used: true, code: ticket.code });
  });

  test('when the same ticket is scanned again, then it is 409 ALREADY_USED with when and at which gate it was first admitted', async () => {
    const { sessionId, tickets } = await confirmedTickets();
    const first = await scan(tickets[0].code, sessionId, 'north-1');

    const again = await scan(tickets[0].code, sessionId, 'south-2');

    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'ALREADY_USED',
      details: { ticket_id: tickets[0].id, first_admitted_at: first.body.admitted_at, first_gate: 'north-1' },
    });
  });

  test('when a ticket of another session is scanned, then it is 409 WRONG_SESSION and the ticket stays unused', async () => {
    const { sessionId, tickets } = await confirmedTickets();
    const other = await createTestSession(system.event.url, { seats: 1 });

    const wrong = await scan(tickets[0].code, other.sessionId);

    expect(wrong.status).toBe(409);
    expect(wrong.body.error).toMatchObject({ code: 'WRONG_SESSION', details: { ticket_session_id: sessionId, session_id: other.sessionId } });
    expect((await scan(tickets[0].code, sessionId)).status).toBe(200);
  });

  test('when a refunded ticket is scanned, then it is 410 REVOKED', async () => {
    const { buyer, sessionId, tickets } = await confirmedTickets();
    expect((await request(system.booking.url, 'POST', `/api/v1/tickets/${tickets[0].id}/refund`, asUser(buyer))).status).toBe(200);

    const revoked = await scan(tickets[0].code, sessionId);

    expect(revoked.status).toBe(410);
    expect(revoked.body.error).toMatchObject({ code: 'REVOKED', details: { ticket_id: tickets[0].id, revoked_at: expect.any(String) } });
  });

  test('when a checked-in ticket is refunded, then it is 409 TICKET_USED and stays admitted', async () => {
    const { buyer, sessionId, tickets } = await confirmedTickets();
    expect((await scan(tickets[0].code, sessionId)).status).toBe(200);

    const refund = await request(system.booking.url, 'POST', `/api/v1/tickets/${tickets[0].id}/refund`, asUser(buyer));

    expect(refund.status).toBe(409);
    expect(refund.body.error.code).toBe('TICKET_USED');
  });

  test('when a code is garbled or is not a ticket code, then it is 422 INVALID_CODE with the reason', async () => {
    const { sessionId, tickets } = await confirmedTickets();
    const garbled = await scan('definitely-not-a-ticket', sessionId);
    expect(garbled.status).toBe(422);
    expect(garbled.body.error).toMatchObject({ code: 'INVALID_CODE', details: { reason: 'malformed' } });
    const [header, payload, signature] = tickets[0].code.split('.');
    const flipped = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    expect((await scan(flipped, sessionId)).body.error).toMatchObject({ code: 'INVALID_CODE', details: { reason: 'bad_signature' } });
  });

  test('when a ticket issued before signed codes shows its legacy TICKET: code, then it is admitted online once', async () => {
    const { sessionId, tickets } = await confirmedTickets();
    const legacy = issueTicketCode(tickets[0].id, system.booking.config.TICKET_SIGNING_SECRET as string);
    await system.booking.db('tickets').where({ id: tickets[0].id }).update({ ticket_code: legacy });
    const text = qrContent(tickets[0].id, legacy);

    expect((await scan(`TICKET:${tickets[0].id}:${issueTicketCode(tickets[0].id, 'another-secret')}`, sessionId)).status).toBe(422);
    expect((await scan(text, sessionId)).status).toBe(200);
    expect((await scan(text, sessionId)).body.error.code).toBe('ALREADY_USED');
  });

  test('when a legacy code’s session started longer ago than the code validity, then it is 422 INVALID_CODE expired', async () => {
    const { sessionId, tickets } = await confirmedTickets();
    const legacy = issueTicketCode(tickets[0].id, system.booking.config.TICKET_SIGNING_SECRET as string);
    await system.booking.db('tickets').where({ id: tickets[0].id }).update({ ticket_code: legacy });
    const hours = system.booking.config.TICKET_CODE_VALID_HOURS_AFTER_START + 1;
    await system.booking.db('reservations').where({ id: (await system.booking.db('tickets').where({ id: tickets[0].id }).first()).reservation_id })
      .update({ session_starts_at: new Date(Date.now() - hours * 3_600_000) });

    const late = await scan(qrContent(tickets[0].id, legacy), sessionId);

    expect(late.status).toBe(422);
    expect(late.body.error.details.reason).toBe('expired');
  });
});

describe('offline scanners', () => {
  test('when a session’s check-in list is read, then it has the public keys, valid, admitted and revoked ids, and a version that moves', async () => {
    const { buyer, sessionId, tickets } = await confirmedTickets(3);
    const list = async () => (await request(system.booking.url, 'GET', `/api/v1/sessions/${sessionId}/check-in-list`, asUser(door))).body;
    const before = await list();
    expect(before.valid_ticket_ids.sort()).toEqual(tickets.map((t) => t.id).sort());
    expect(before.keys).toEqual((await request(system.booking.url, 'GET', '/api/v1/ticket-keys')).body);

    await scan(tickets[0].code, sessionId, 'east');
    await request(system.booking.url, 'POST', `/api/v1/tickets/${tickets[1].id}/refund`, asUser(buyer));
    const after = await list();

    expect(after.valid_ticket_ids).toEqual([tickets[2].id]);
    expect(after.admitted).toEqual([{ ticket_id: tickets[0].id, admitted_at: expect.any(String), gate: 'east' }]);
    expect(after.revoked_ticket_ids).toEqual([tickets[1].id]);
    expect(after.version).not.toBe(before.version);
    expect((await list()).version).toBe(after.version);

    // Scanners poll with the version as ETag: 304 while nothing changed.
    const polled = await fetch(`${system.booking.url}/api/v1/sessions/${sessionId}/check-in-list`, {
      headers: { 'x-user-id': door, 'if-none-match': `"${after.version}"` },
    });
    expect(polled.status).toBe(304);
  });

  test('when offline scans are uploaded, then the first scan of a ticket wins and later ones are duplicates with both times', async () => {
    const { buyer, sessionId, tickets } = await confirmedTickets(4);
    const [twice, once, live, refunded] = tickets;
    const online = await scan(live.code, sessionId, 'main');
    await request(system.booking.url, 'POST', `/api/v1/tickets/${refunded.id}/refund`, asUser(buyer));
    const at = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
    // Uploaded out of order: the later scan of `twice` first.
    const scans = [
      { code: twice.code, scanned_at: at(60), gate: 'side-b', scan_id: 's1' },
      { code: twice.code, scanned_at: at(120), gate: 'side-a', scan_id: 's2' },
      { code: once.code, scanned_at: at(90), gate: 'side-a', scan_id: 's3' },
      { code: live.code, scanned_at: at(30), gate: 'side-a', scan_id: 's4' },
      { code: refunded.code, scanned_at: at(20), gate: 'side-a', scan_id: 's5' },
      { code: 'garbage', scanned_at: at(10), gate: 'side-a', scan_id: 's6' },
    ];

    const uploaded = await upload(sessionId, scans);

    expect(uploaded.status).toBe(200);
    expect(uploaded.body.results.map((r: any) => [r.scan_id, r.result])).toEqual([
      ['s1', 'DUPLICATE'],
      ['s2', 'ADMITTED'],
      ['s3', 'ADMITTED'],
      ['s4', 'DUPLICATE'],
      ['s5', 'REVOKED'],
      ['s6', 'INVALID_CODE'],
    ]);
    expect(uploaded.body.results[0]).toMatchObject({ scanned_at: scans[0].scanned_at, first_admitted_at: scans[1].scanned_at, first_gate: 'side-a' });
    expect(uploaded.body.results[3]).toMatchObject({ first_admitted_at: online.body.admitted_at, first_gate: 'main' });
    expect(uploaded.body.counts).toEqual({ ADMITTED: 2, DUPLICATE: 2, REVOKED: 1, WRONG_SESSION: 0, INVALID_CODE: 1 });

    // A scanner that lost the answer uploads the same batch again: nothing changes.
    const again = await upload(sessionId, scans);
    expect(again.body.results.map((r: any) => r.result)).toEqual(uploaded.body.results.map((r: any) => r.result));
    // An offline admission counts at the door too: the live scan of `once` is a duplicate of it.
    expect((await scan(once.code, sessionId)).body.error).toMatchObject({ code: 'ALREADY_USED', details: { first_admitted_at: scans[2].scanned_at } });

    const journal = await system.booking.db('check_in_scans').where({ session_id: sessionId, source: 'offline' }).count<{ count: string }[]>({ count: '*' });
    expect(Number(journal[0].count)).toBe(12);
  });

  test('when the batch is empty or too large, then it is refused as a validation error', async () => {
    const sessionId = randomUUID();
    expect((await upload(sessionId, [])).status).toBe(422);
    const tooMany = Array.from({ length: 1_001 }, () => ({ code: 'x', scanned_at: new Date().toISOString() }));
    expect((await upload(sessionId, tooMany)).status).toBe(422);
  });
});

describe('key rotation', () => {
  let rotated: RunningBookingApi | undefined;
  afterEach(async () => {
    await stopBookingSide(rotated);
    rotated = undefined;
  });

  async function ed25519Jwk(kid: string) {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    return { ...(await exportJWK(privateKey)), kid };
  }

  test('when the signing key rotates, then tickets signed by the previous key still admit and a removed key’s tickets are refused', async () => {
    const [k1, k2] = [await ed25519Jwk('k1'), await ed25519Jwk('k2')];
    const withKeys = async (keys: unknown[]) => {
      await stopBookingSide(rotated);
      rotated = await startBookingSide(system.event.url, { TICKET_SIGNING_KEYS: JSON.stringify(keys), PAYMENT_SUCCESS_RATE: 1 });
      return rotated.url;
    };
    const { d: _private, ...k1Public } = k1;

    const versionAt = async (url: string, sessionId: string) =>
      (await request(url, 'GET', `/api/v1/sessions/${sessionId}/check-in-list`, asUser(door))).body.version;
    let url = await withKeys([k1]);
    const old = await confirmedTickets(2, url);
    const versionBefore = await versionAt(url, old.sessionId);

    url = await withKeys([k2, k1Public]);
    // Nothing changed but the keys: scanners polling by version still learn of the new key.
    expect(await versionAt(url, old.sessionId)).not.toBe(versionBefore);
    expect((await request(url, 'GET', '/api/v1/ticket-keys')).body.keys.map((k: any) => k.kid)).toEqual(['k2', 'k1']);
    expect((await scan(old.tickets[0].code, old.sessionId, undefined, url)).status).toBe(200);
    const fresh = await confirmedTickets(1, url);
    expect(JSON.parse(Buffer.from(fresh.tickets[0].code.split('.')[0], 'base64url').toString()).kid).toBe('k2');

    url = await withKeys([k2]);
    const removed = await scan(old.tickets[1].code, old.sessionId, undefined, url);
    expect(removed.status).toBe(422);
    expect(removed.body.error.details.reason).toBe('unknown_key');
    expect((await scan(fresh.tickets[0].code, fresh.sessionId, undefined, url)).status).toBe(200);
  });
});

describe('check-in API description', () => {
  test('when /openapi.json is read, then the check-in routes and the ticket code are documented', async () => {
    const document = (await request(system.booking.url, 'GET', '/openapi.json')).body;
    for (const path of ['/api/v1/check-ins', '/api/v1/check-ins/batch', '/api/v1/sessions/{id}/check-in-list', '/api/v1/ticket-keys']) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    expect(Object.keys(document.paths['/api/v1/check-ins'].post.responses).sort()).toEqual(['200', '401', '403', '409', '410', '422']);
    const ticket = document.paths['/api/v1/tickets/{id}'].get.responses['200'].content['application/json'].schema;
    expect(ticket.properties.code).toMatchObject({ type: 'string', description: expect.stringContaining('Ed25519') });
    expect(ticket.required).toContain('code');
  });
});

describe('check-in metrics', () => {
  test('when scans are decided, then admissions are counted by result and their latency observed', async () => {
    const { sessionId, tickets } = await confirmedTickets();
    const read = async () => (await fetch(`${system.booking.url}/metrics`)).text();
    const count = (text: string, result: string) =>
      Number(new RegExp(`booking_check_ins_total\\{result="${result}",source="online"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? NaN);
    const before = await read();

    await scan(tickets[0].code, sessionId);
    await scan(tickets[0].code, sessionId);
    await scan('nonsense', sessionId);

    const after = await read();
    expect(count(after, 'admitted') - count(before, 'admitted')).toBe(1);
    expect(count(after, 'already_used') - count(before, 'already_used')).toBe(1);
    expect(count(after, 'invalid_code') - count(before, 'invalid_code')).toBe(1);
    expect(after).toMatch(/booking_check_in_duration_seconds_count\{[^}]*result="admitted"[^}]*\} [1-9]/);
  });
});
