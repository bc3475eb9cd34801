import type { Logger } from '@ticketing/platform';
import type { EventServiceClient, SeatHolds } from './event-service';
import type { PaymentProvider } from './payment-provider';
import type { BookingStore } from './store';
import type { TicketKeyRing } from './ticket-signing';

/** Another request holds a lock on at least one of the seats. */
export class SeatsLockedError extends Error {
  constructor() {
    super('Seat already locked by another user');
    this.name = 'SeatsLockedError';
  }
}

/** Redis could not be asked (down, timed out). */
export class LockServiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockServiceError';
  }
}

export interface SeatLocker {
  /** Locks every seat at once or throws SeatsLockedError immediately (no waiting); resolves to a release function. */
  lockSeats(sessionSeatIds: string[], ttlMs: number): Promise<() => Promise<void>>;
}

export type ReservationOutcome = 'created' | 'conflict' | 'rejected' | 'error';
export type ConfirmOutcome = 'confirmed' | 'replayed' | 'declined' | 'conflict' | 'rejected' | 'error';
export type LockResult = 'acquired' | 'contended' | 'error';
export type PublishOutcome = 'published' | 'failed';
/** The state a reservation ended in (refunds are counted per ticket). */
export type SettledState = 'confirmed' | 'expired' | 'cancelled';
/** A payment-provider call and how it ended (declined only for authorize). */
export type PaymentOperation = 'authorize' | 'capture' | 'void' | 'refund';
export type PaymentOperationResult = 'ok' | 'declined' | 'failed';
/** What a door scan came to, and whether it was made live or uploaded from an offline scanner. */
export type CheckInOutcome = 'admitted' | 'already_used' | 'revoked' | 'wrong_session' | 'invalid_code';
export type CheckInSource = 'online' | 'offline';
/** Why the expiry sweep released a hold: its reservation expired, or its request died before writing it. */
export type ExpiryReason = 'expired' | 'abandoned';

/**
 * The measurements the use cases report; implemented with prom-client at the edge. Label values are the
 * bounded sets above, never ids.
 */
export interface BookingMetrics {
  reservationDuration(outcome: ReservationOutcome, seconds: number): void;
  confirmDuration(outcome: ConfirmOutcome, seconds: number): void;
  /** One Redlock attempt over `seats` seats: its result and how long asking Redis took. */
  lockAcquisition(result: LockResult, seconds: number, seats: number): void;
  /** How long a lock was held, from acquired to released. */
  lockHeld(seconds: number): void;
  reservationsSettled(state: SettledState, count: number): void;
  ticketsIssued(count: number): void;
  ticketsRefunded(count: number): void;
  holdsReleasedByExpiry(reason: ExpiryReason, count: number): void;
  messagePublished(routingKey: string, outcome: PublishOutcome): void;
  paymentOperation(operation: PaymentOperation, result: PaymentOperationResult): void;
  /** One door scan: its result, live or offline, and how long deciding it took. */
  checkIn(result: CheckInOutcome, source: CheckInSource, seconds: number): void;
}

export const noMetrics: BookingMetrics = {
  reservationDuration: () => undefined,
  confirmDuration: () => undefined,
  lockAcquisition: () => undefined,
  lockHeld: () => undefined,
  reservationsSettled: () => undefined,
  ticketsIssued: () => undefined,
  ticketsRefunded: () => undefined,
  holdsReleasedByExpiry: () => undefined,
  messagePublished: () => undefined,
  paymentOperation: () => undefined,
  checkIn: () => undefined,
};

/** Something that publishes outbox rows soon after they were committed. */
export interface OutboxKicker {
  kick(): void;
}

export interface BookingSettings {
  reservationTtlSeconds: number;
  lockTtlMs: number;
  /** Verifies the HMAC codes of tickets issued before Ed25519 codes (undefined: those codes are refused). */
  ticketSigningSecret?: string;
  /** Signs new ticket codes and verifies scanned ones. */
  ticketKeys: TicketKeyRing;
  /** A code's `exp` is its session's start plus this many hours. */
  ticketCodeValidHoursAfterStart: number;
  /** How long an Idempotency-Key claim blocks duplicates before a retry may take it over (with a fresh id). */
  idempotencyLeaseMs: number;
  /** Seats one user may hold at once in one session, across their active reservations. */
  maxSeatsPerUserPerSession: number;
  /** Tickets can be refunded until this many minutes before their session starts (0 = until the start). */
  refundCutoffMinutes: number;
}

/** Collaborators of the booking use cases, composed once by the entry point. */
export interface BookingDeps {
  store: BookingStore;
  eventService: EventServiceClient;
  /** Holds at the event service, with their compensation and buyer-facing errors. */
  seatHolds: SeatHolds;
  seatLocker: SeatLocker;
  payments: PaymentProvider;
  relay: OutboxKicker;
  logger: Logger;
  metrics: BookingMetrics;
  settings: BookingSettings;
}

export const secondsSince = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;
