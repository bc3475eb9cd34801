import type { ItemOutcome, SeatHold, SessionOrganizer } from '@ticketing/platform';

/**
 * The port to the event service (which owns seats, sessions and organizers): the domain declares what it
 * needs, `data-access/event-service-client.ts` implements it over the internal HTTP API.
 */

/** The event service could not be reached or failed (5xx, timeout, refused). */
export class EventServiceUnavailableError extends Error {
  constructor(
    message: string,
    /** True when the request may have reached the event service (so a hold may exist). */
    readonly mayHaveApplied: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EventServiceUnavailableError';
  }
}

/** The event service answered with a 4xx: the request was understood and refused. */
export class EventServiceRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined,
  ) {
    super(message);
    this.name = 'EventServiceRejectedError';
  }
}

/** A hold as the event service answers it: the seats with their labels and prices (the shared contract's type). */
export type ReserveResult = SeatHold;

export interface SeatHoldRequest {
  sessionId: string;
  reservationId: string;
  sessionSeatIds: string[];
  reservedUntil: Date;
}

/** What the domain needs from the event service. */
export interface EventServiceClient {
  reserveSeats(request: SeatHoldRequest): Promise<ReserveResult>;
  /**
   * Many holds in one call and one transaction at the event service: one outcome per request, in order, each
   * failing with the error reserveSeats would have thrown for it. Rejects (every hold may have applied) when
   * the call as a whole failed.
   */
  reserveSeatsBatch(requests: SeatHoldRequest[]): Promise<Array<ItemOutcome<ReserveResult>>>;
  releaseSeats(request: { sessionId: string; reservationId: string; sessionSeatIds: string[] }): Promise<void>;
  /** The session's start time (public catalog read), for reservations that did not store it. */
  getSessionStart(sessionId: string): Promise<Date>;
  sessionOrganizer(sessionId: string, userId: string): Promise<SessionOrganizer>;
  health(): Promise<void>;
  close(): void;
}

/** A hold placed (or asked for) at the event service. */
export type PlacedHold = Omit<SeatHoldRequest, 'reservedUntil'>;

/**
 * Holds at the event service with their compensation and the buyer-facing errors, so a use case only says
 * "hold" and "release" (implemented next to the client, `data-access/event-service-holds.ts`).
 */
export interface SeatHolds {
  /**
   * Places the hold. On failure it first undoes what may exist (releases a hold the call may have applied,
   * or forgets the pending-hold journal entry of one that cannot exist), then throws the AppError the buyer
   * sees (404 unknown session, 409 seats unavailable, 503 event service unavailable, 502 unexpected refusal).
   */
  place(request: SeatHoldRequest): Promise<ReserveResult>;
  /**
   * Best effort, after a failure that followed the hold (`cause`): releases it at the event service now and
   * forgets its journal entry; if the release fails, the expiry sweep releases it later via the outbox.
   */
  release(hold: PlacedHold, cause: unknown): Promise<void>;
}
