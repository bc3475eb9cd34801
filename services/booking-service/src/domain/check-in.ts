import { createHash, randomUUID } from 'node:crypto';
import { AppError, conflict, gone } from '@ticketing/platform';
import type { TicketRow } from './records';
import type { CheckInScan } from './store';
import { secondsSince, type BookingDeps } from './ports';
import { parseQrContent, verifyTicketCode } from './ticket-code';
import { InvalidTicketCode, type InvalidCodeReason, type PublicTicketJwk } from './ticket-signing';

export type CheckInResult = CheckInScan['result'];
export type ScanSource = CheckInScan['source'];
export type InvalidScanReason = InvalidCodeReason | 'unknown_ticket' | 'legacy_code_refused';

/** Who scanned where: the door-staff member (the caller) and the gate their scanner names. */
export interface Scanner {
  userId: string;
  gate?: string;
}

export interface TicketSummary {
  ticket_id: string;
  session_id: string;
  seat: { session_seat_id: string; row_number: string; seat_number: string };
  holder: { user_id: string; reservation_id: string };
}

/** What one scan came to; `first` is the admission of record when the ticket had already been admitted. */
export type ScanOutcome =
  | { result: 'admitted'; ticket: TicketRow; admittedAt: Date; replayed: boolean }
  | { result: 'already_used'; ticket: TicketRow; first: { at: Date; gate: string | null } }
  | { result: 'revoked'; ticket: TicketRow }
  | { result: 'wrong_session'; ticketId: string; ticketSessionId: string }
  | { result: 'invalid_code'; reason: InvalidScanReason };

type Deps = Pick<BookingDeps, 'store' | 'metrics' | 'settings' | 'logger'>;

/**
 * Which ticket a scanned code names, with the session it is for. Signed codes are verified with the key
 * ring alone (the same check an offline scanner makes); a legacy TICKET:<id>:<nonce>.<hmac> code needs the
 * stored ticket and TICKET_SIGNING_SECRET, and is refused once that secret is no longer configured.
 */
async function identify(deps: Deps, code: string): Promise<{ ticketId: string; sessionId: string } | InvalidScanReason> {
  if (code.startsWith('TICKET:')) {
    const legacy = parseQrContent(code);
    const secret = deps.settings.ticketSigningSecret;
    if (!legacy) return 'malformed';
    if (!secret) return 'legacy_code_refused';
    if (!verifyTicketCode(legacy.ticketId, legacy.code, secret)) return 'bad_signature';
    const ticket = await deps.store.tickets.findById(legacy.ticketId);
    // A legacy code verifies for its ticket only while it is the code that ticket was issued with.
    if (!ticket || ticket.ticket_code !== legacy.code) return 'unknown_ticket';
    // Legacy codes carry no expiry: they stop with their session, as signed codes do (start + validity).
    const startsAt = (await deps.store.reservations.findById(ticket.reservation_id))?.session_starts_at;
    const validHours = deps.settings.ticketCodeValidHoursAfterStart;
    if (startsAt && Date.now() > startsAt.getTime() + validHours * 3_600_000) return 'expired';
    return { ticketId: ticket.id, sessionId: ticket.session_id };
  }
  try {
    const claims = await deps.settings.ticketKeys.verify(code);
    return { ticketId: claims.ticketId, sessionId: claims.sessionId };
  } catch (error) {
    if (error instanceof InvalidTicketCode) return error.reason;
    throw error;
  }
}

/**
 * Decides one scan: verify the code, check its session, then admit with a conditional UPDATE (active → used).
 * Of any number of simultaneous scans of one ticket exactly one admits; the rest read the admission of record.
 * `scannedAt` is an offline scan's own time (undefined for a live scan: the database's clock).
 */
async function decide(deps: Deps, code: string, sessionId: string, scanner: Scanner, scannedAt?: Date): Promise<ScanOutcome> {
  const named = await identify(deps, code);
  if (typeof named === 'string') return { result: 'invalid_code', reason: named };
  if (named.sessionId !== sessionId.toLowerCase()) {
    return { result: 'wrong_session', ticketId: named.ticketId, ticketSessionId: named.sessionId };
  }
  const gate = scanner.gate ?? null;
  const admitted = await deps.store.tickets.admitIfActive(named.ticketId, { gate, by: scanner.userId, at: scannedAt });
  if (admitted) return { result: 'admitted', ticket: admitted, admittedAt: admitted.used_at ?? new Date(), replayed: false };

  const ticket = await deps.store.tickets.findById(named.ticketId);
  // Validly signed yet unknown: issued by another deployment sharing the key, or its row is gone.
  if (!ticket) return { result: 'invalid_code', reason: 'unknown_ticket' };
  if (ticket.status === 'refunded') return { result: 'revoked', ticket };
  const first = { at: ticket.used_at ?? ticket.updated_at, gate: ticket.checked_in_gate };
  // The same offline scan uploaded again (a retried batch) is its own admission, not a duplicate.
  if (scannedAt && first.at.getTime() === scannedAt.getTime() && first.gate === gate && ticket.checked_in_by === scanner.userId) {
    return { result: 'admitted', ticket, admittedAt: first.at, replayed: true };
  }
  return { result: 'already_used', ticket, first };
}

function journalRow(outcome: ScanOutcome, sessionId: string, scanner: Scanner, source: ScanSource, scannedAt: Date): CheckInScan {
  const ticketId =
    outcome.result === 'invalid_code' ? null : outcome.result === 'wrong_session' ? outcome.ticketId : outcome.ticket.id;
  return {
    id: randomUUID(),
    // A wrong-session code names a ticket of another session; journaled under the session it was shown at.
    ticket_id: ticketId,
    session_id: sessionId,
    gate: scanner.gate ?? null,
    scanned_by: scanner.userId,
    result: outcome.result,
    source,
    scanned_at: scannedAt,
  };
}

export const ticketSummary = (ticket: TicketRow): TicketSummary => ({
  ticket_id: ticket.id,
  session_id: ticket.session_id,
  seat: { session_seat_id: ticket.session_seat_id, row_number: ticket.row_number, seat_number: ticket.seat_number },
  holder: { user_id: ticket.user_id, reservation_id: ticket.reservation_id },
});

export interface AdmittedBody extends TicketSummary {
  result: 'ADMITTED';
  admitted_at: string;
  gate: string | null;
}

/** The contract's error for a scan that did not admit. */
export function scanRefusal(outcome: Exclude<ScanOutcome, { result: 'admitted' }>, sessionId: string): AppError {
  switch (outcome.result) {
    case 'already_used':
      return conflict('ALREADY_USED', 'This ticket has already been admitted', {
        ...ticketSummary(outcome.ticket),
        first_admitted_at: outcome.first.at.toISOString(),
        first_gate: outcome.first.gate,
      });
    case 'revoked':
      return gone('REVOKED', 'This ticket was refunded: its code is revoked', {
        ticket_id: outcome.ticket.id,
        revoked_at: outcome.ticket.refunded_at?.toISOString() ?? null,
      });
    case 'wrong_session':
      return conflict('WRONG_SESSION', 'This ticket is for another session', {
        ticket_id: outcome.ticketId,
        ticket_session_id: outcome.ticketSessionId,
        session_id: sessionId,
      });
    case 'invalid_code':
      return new AppError(422, 'INVALID_CODE', 'Not a valid ticket code', { reason: outcome.reason });
  }
}

/**
 * POST /check-ins: one live scan at the door. Answers the admission (seat and holder) or throws the refusal:
 * 409 ALREADY_USED (when and at which gate first), 410 REVOKED, 409 WRONG_SESSION, 422 INVALID_CODE.
 * Every scan is journaled and counted by result.
 */
export async function checkInTicket(deps: Deps, input: { code: string; sessionId: string; scanner: Scanner }): Promise<AdmittedBody> {
  const started = process.hrtime.bigint();
  const outcome = await decide(deps, input.code, input.sessionId, input.scanner);
  const scannedAt = outcome.result === 'admitted' ? outcome.admittedAt : new Date();
  await journal(deps, [journalRow(outcome, input.sessionId, input.scanner, 'online', scannedAt)]);
  deps.metrics.checkIn(outcome.result, 'online', secondsSince(started));
  if (outcome.result !== 'admitted') throw scanRefusal(outcome, input.sessionId);
  return {
    result: 'ADMITTED',
    ...ticketSummary(outcome.ticket),
    admitted_at: outcome.admittedAt.toISOString(),
    gate: outcome.ticket.checked_in_gate,
  };
}

/** The journal is the audit trail, not the admission: a failed write is logged, the answer stands. */
async function journal(deps: Deps, rows: CheckInScan[]) {
  await deps.store.tickets.recordScans(rows).catch((error: unknown) => {
    deps.logger.error({ err: error, scans: rows.length }, 'Could not journal check-in scans');
  });
}

export interface OfflineScan {
  code: string;
  scanned_at: string;
  gate?: string;
  /** The scanner's own id for the scan, echoed back. */
  scan_id?: string;
}

export type BatchResult = 'ADMITTED' | 'DUPLICATE' | 'REVOKED' | 'WRONG_SESSION' | 'INVALID_CODE';

export interface BatchScanResult {
  index: number;
  scan_id?: string;
  result: BatchResult;
  ticket_id: string | null;
  scanned_at: string;
  gate: string | null;
  /** DUPLICATE: the admission of record, so staff see both times. */
  first_admitted_at?: string;
  first_gate?: string | null;
  reason?: InvalidScanReason;
}

const BATCH_RESULTS: Record<CheckInResult, BatchResult> = {
  admitted: 'ADMITTED',
  already_used: 'DUPLICATE',
  revoked: 'REVOKED',
  wrong_session: 'WRONG_SESSION',
  invalid_code: 'INVALID_CODE',
};

/**
 * POST /check-ins/batch: scans an offline scanner made, uploaded when it is back online. They are applied in
 * the order they were scanned (scanned_at; a time in the future counts as now), so the first scan of a ticket
 * wins and every later one — in this batch, an earlier upload or a live scan — comes back DUPLICATE with the
 * admission of record's time and gate beside its own. Uploading the same batch again changes nothing.
 * Results are in upload order.
 */
export async function uploadOfflineScans(
  deps: Deps,
  input: { sessionId: string; scans: OfflineScan[]; scanner: Scanner },
): Promise<{ session_id: string; results: BatchScanResult[]; counts: Record<BatchResult, number> }> {
  const now = Date.now();
  const ordered = input.scans
    .map((scan, index) => ({ scan, index, at: new Date(Math.min(Date.parse(scan.scanned_at), now)) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime() || a.index - b.index);
  const results: BatchScanResult[] = new Array(input.scans.length);
  const rows: CheckInScan[] = [];
  const counts: Record<BatchResult, number> = { ADMITTED: 0, DUPLICATE: 0, REVOKED: 0, WRONG_SESSION: 0, INVALID_CODE: 0 };
  // One at a time: a ticket scanned twice in the batch must see its own first admission.
  for (const { scan, index, at } of ordered) {
    const started = process.hrtime.bigint();
    const scanner = { userId: input.scanner.userId, gate: scan.gate ?? input.scanner.gate };
    const outcome = await decide(deps, scan.code, input.sessionId, scanner, at);
    deps.metrics.checkIn(outcome.result, 'offline', secondsSince(started));
    rows.push(journalRow(outcome, input.sessionId, scanner, 'offline', at));
    const result = BATCH_RESULTS[outcome.result];
    counts[result] += 1;
    results[index] = {
      index,
      ...(scan.scan_id !== undefined ? { scan_id: scan.scan_id } : {}),
      result,
      ticket_id: rows[rows.length - 1].ticket_id,
      scanned_at: at.toISOString(),
      gate: scanner.gate ?? null,
      ...(outcome.result === 'already_used'
        ? { first_admitted_at: outcome.first.at.toISOString(), first_gate: outcome.first.gate }
        : {}),
      ...(outcome.result === 'invalid_code' ? { reason: outcome.reason } : {}),
    };
  }
  await journal(deps, rows);
  return { session_id: input.sessionId, results, counts };
}

export interface CheckInList {
  session_id: string;
  /** Changes whenever a ticket of the session is issued, admitted or revoked. */
  version: string;
  generated_at: string;
  keys: { keys: PublicTicketJwk[] };
  valid_ticket_ids: string[];
  admitted: Array<{ ticket_id: string; admitted_at: string; gate: string | null }>;
  revoked_ticket_ids: string[];
}

/**
 * GET /sessions/{id}/check-in-list: what an offline scanner needs: the public keys (verify codes), the tickets
 * it may still admit, those already admitted (refuse as duplicates, with when and where) and those revoked.
 */
export async function sessionCheckInList(deps: Pick<BookingDeps, 'store' | 'settings'>, sessionId: string): Promise<CheckInList> {
  const states = await deps.store.tickets.statesOfSession(sessionId);
  const list: CheckInList = {
    session_id: sessionId,
    version: '',
    generated_at: new Date().toISOString(),
    keys: deps.settings.ticketKeys.jwks(),
    valid_ticket_ids: [],
    admitted: [],
    revoked_ticket_ids: [],
  };
  let latest = 0;
  for (const ticket of states) {
    latest = Math.max(latest, ticket.updated_at.getTime());
    if (ticket.status === 'active') list.valid_ticket_ids.push(ticket.id);
    else if (ticket.status === 'refunded') list.revoked_ticket_ids.push(ticket.id);
    else list.admitted.push({ ticket_id: ticket.id, admitted_at: (ticket.used_at ?? ticket.updated_at).toISOString(), gate: ticket.checked_in_gate });
  }
  // Tickets are only ever added or moved forward (active → used | refunded), each move bumping updated_at;
  // the key ids are in it too, so a rotation reaches scanners that poll by version.
  const keyIds = createHash('sha256').update(list.keys.keys.map((key) => key.kid).join(' ')).digest('base64url').slice(0, 8);
  list.version = `${states.length}.${list.admitted.length}.${list.revoked_ticket_ids.length}.${latest}.${keyIds}`;
  return list;
}
