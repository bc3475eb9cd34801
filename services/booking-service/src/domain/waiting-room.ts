import { AppError, forbidden, notFound, serviceUnavailable, withoutSpans, type Actor } from '@ticketing/platform';
import { EventServiceRejectedError, type EventServiceClient } from './event-service';
import type { RawStatus, WaitingRoomConfig, WaitingRoomState, WaitingRoomStore } from './waiting-room-ports';
import { assertOrganizesSession } from './session-ownership';
import {
  checkAdmissionToken,
  estimatedWaitSeconds,
  parseQueueTicket,
  queueTicketOf,
  signAdmissionToken,
} from './waiting-room-rules';

/**
 * The waiting room's use cases for the HTTP edge: an organizer configures it, a buyer joins and reads their
 * place, a hold proves its admission. The ticker's side (opening, admitting, selling out) is admission-tick.ts.
 */

export interface WaitingRoomDeps {
  store: WaitingRoomStore;
  eventService: Pick<EventServiceClient, 'sessionOrganizer' | 'getSessionStart'>;
  /** HMAC key of admission tokens. */
  admissionSecret: string;
  now?: () => number;
}

export type QueueStatusName = 'WAITING_FOR_OPENING' | 'QUEUED' | 'ADMITTED' | 'SOLD_OUT' | 'NOT_IN_QUEUE';

export interface QueueStatus {
  queue_ticket: string;
  session_id: string;
  status: QueueStatusName;
  /** 1 = next to be admitted; null before the opening draw or when not waiting. */
  position: number | null;
  ahead: number | null;
  /** Everyone waiting in the session (before the opening: everyone who joined). */
  waiting: number;
  estimated_wait_seconds: number | null;
  opens_at: string;
  admission_rate_per_second: number;
  admission: { token: string; expires_at: string } | null;
}

export interface WaitingRoomView {
  session_id: string;
  opens_at: string;
  admission_rate_per_second: number;
  hold_window_seconds: number;
  state: 'WAITING_FOR_OPENING' | 'OPEN' | 'SOLD_OUT';
}

const nowOf = (deps: Pick<WaitingRoomDeps, 'now'>) => (deps.now ?? Date.now)();

export const queueAdmissionRequired = (message: string, reason: string) =>
  new AppError(403, 'QUEUE_ADMISSION_REQUIRED', message, { reason });

function view(sessionId: string, config: WaitingRoomState | WaitingRoomConfig & Partial<WaitingRoomState>): WaitingRoomView {
  return {
    session_id: sessionId,
    opens_at: config.opensAt.toISOString(),
    admission_rate_per_second: config.admissionRatePerSecond,
    hold_window_seconds: config.holdWindowSeconds,
    state: config.soldOut ? 'SOLD_OUT' : config.state === 'open' ? 'OPEN' : 'WAITING_FOR_OPENING',
  };
}

export async function configureWaitingRoom(
  deps: WaitingRoomDeps,
  actor: Actor,
  sessionId: string,
  config: WaitingRoomConfig,
): Promise<WaitingRoomView> {
  await assertOrganizesSession(deps.eventService, actor, sessionId, "Only the session's organizer may configure its waiting room");
  // The organizer check asked the event service about the session; development's open catalog did not.
  if (actor.kind === 'anyone') await assertSessionExists(deps.eventService, sessionId);
  await orUnavailable(deps.store.configure(sessionId, config));
  return getWaitingRoom(deps, sessionId);
}

export async function getWaitingRoom(deps: Pick<WaitingRoomDeps, 'store'>, sessionId: string): Promise<WaitingRoomView> {
  const config = await orUnavailable(deps.store.config(sessionId));
  if (!config) throw new AppError(404, 'NOT_FOUND', 'This session has no waiting room');
  return view(sessionId, config);
}

export async function closeWaitingRoom(deps: WaitingRoomDeps, actor: Actor, sessionId: string): Promise<void> {
  await assertOrganizesSession(deps.eventService, actor, sessionId, "Only the session's organizer may close its waiting room");
  if (!(await orUnavailable(deps.store.remove(sessionId)))) throw new AppError(404, 'NOT_FOUND', 'This session has no waiting room');
}

export async function joinQueue(deps: WaitingRoomDeps, userId: string, sessionId: string): Promise<QueueStatus> {
  const joined = await orUnavailable(deps.store.join(sessionId, userId, nowOf(deps)));
  if (joined.kind === 'none') throw new AppError(404, 'NOT_FOUND', 'This session has no waiting room');
  return readStatus(deps, sessionId, userId);
}

/** The caller's place behind their queue ticket; another user's ticket is refused. */
export async function queueStatus(deps: WaitingRoomDeps, userId: string, ticket: string): Promise<QueueStatus> {
  const parsed = parseQueueTicket(ticket);
  if (!parsed) throw notFound('Queue ticket', ticket);
  if (parsed.userId !== userId) throw forbidden('This queue ticket belongs to another user');
  return readStatus(deps, parsed.sessionId, userId);
}

export async function readStatus(deps: WaitingRoomDeps, sessionId: string, userId: string): Promise<QueueStatus> {
  const { config, ...raw } = await orUnavailable(deps.store.status(sessionId, userId));
  if (!config) throw new AppError(404, 'NOT_FOUND', 'This session has no waiting room');
  return describeStatus(deps, sessionId, userId, { ...raw, config });
}

export function describeStatus(
  deps: Pick<WaitingRoomDeps, 'admissionSecret' | 'now'>,
  sessionId: string,
  userId: string,
  raw: RawStatus & { config: WaitingRoomState },
): QueueStatus {
  const { config } = raw;
  const base = {
    queue_ticket: queueTicketOf(sessionId, userId),
    session_id: sessionId,
    position: null,
    ahead: null,
    waiting: config.state === 'pre' ? raw.earlyCount : raw.waiting,
    estimated_wait_seconds: null,
    opens_at: config.opensAt.toISOString(),
    admission_rate_per_second: config.admissionRatePerSecond,
    admission: null,
  };
  if (raw.admittedUntilMs !== null && raw.admittedUntilMs > nowOf(deps)) {
    const exp = Math.floor(raw.admittedUntilMs / 1000);
    return {
      ...base,
      status: 'ADMITTED',
      admission: {
        token: signAdmissionToken(deps.admissionSecret, { sessionId, userId, exp }),
        expires_at: new Date(exp * 1000).toISOString(),
      },
    };
  }
  if (config.soldOut) return { ...base, status: 'SOLD_OUT' };
  if (raw.early) return { ...base, status: 'WAITING_FOR_OPENING' };
  if (raw.rank === null) return { ...base, status: 'NOT_IN_QUEUE' };
  return {
    ...base,
    status: 'QUEUED',
    position: raw.rank + 1,
    ahead: raw.rank,
    estimated_wait_seconds: estimatedWaitSeconds(raw.rank, config.admissionRatePerSecond),
  };
}

/**
 * The reservation guard: on a session with a waiting room, holding seats needs the caller's own, unexpired
 * admission token for that session (403 QUEUE_ADMISSION_REQUIRED otherwise). Sessions without one pass.
 */
export async function assertAdmitted(
  deps: WaitingRoomDeps,
  input: { userId: string; sessionId: string; token: string | undefined },
): Promise<{ queued: boolean }> {
  if (!(await waitingRoomIsOn(deps, input.sessionId))) return { queued: false };
  const check = checkAdmissionToken(deps.admissionSecret, input.token, input, Math.floor(nowOf(deps) / 1000));
  if (check.valid) return { queued: true };
  const messages = {
    missing: 'This session has a waiting room: join the queue and hold seats with the admission token once admitted',
    malformed: 'The admission token is not valid',
    expired: 'The admission token has expired: the hold window passed',
    other_user: 'The admission token was issued to another user',
    other_session: 'The admission token was issued for another session',
  };
  throw queueAdmissionRequired(messages[check.reason], check.reason);
}

async function assertSessionExists(eventService: Pick<EventServiceClient, 'getSessionStart'>, sessionId: string): Promise<void> {
  try {
    await eventService.getSessionStart(sessionId);
  } catch (error) {
    if (error instanceof EventServiceRejectedError && error.status === 404) throw notFound('Session', sessionId);
    throw serviceUnavailable('EVENT_SERVICE_UNAVAILABLE', 'The event service is unavailable, try again shortly');
  }
}

/**
 * Redis answers for the seat locks too: while it is down the hold could not be placed anyway, so the same 503.
 * Made without a span: one sub-millisecond read per reservation that the server span's duration covers, and
 * an outage shows as the 503 (docs/observability.md, "Cost").
 */
async function waitingRoomIsOn(deps: Pick<WaitingRoomDeps, 'store'>, sessionId: string): Promise<boolean> {
  try {
    return await withoutSpans(() => deps.store.isOn(sessionId));
  } catch {
    throw serviceUnavailable('LOCK_SERVICE_UNAVAILABLE', 'Seat locking is temporarily unavailable, try again');
  }
}

/** An admitted buyer held seats: their slot goes to the next one in the queue. */
export async function recordAdmittedHold(deps: Pick<WaitingRoomDeps, 'store'>, sessionId: string, userId: string): Promise<void> {
  // The hold is placed: failing its answer now would be worse than a slot that frees only when the window ends.
  await deps.store.markHeld(sessionId, userId).catch(() => undefined);
}

/** A Redis that does not answer is an outage (503), never a 5xx bug: the waiting room cannot be read or changed. */
async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw serviceUnavailable('WAITING_ROOM_UNAVAILABLE', 'The waiting room is temporarily unavailable, try again shortly');
  }
}
