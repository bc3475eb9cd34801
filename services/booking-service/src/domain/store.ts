/**
 * What the booking use cases need from storage: the repositories, one per table owner, and a transaction
 * giving the same repositories bound to it. data-access/booking-store.ts implements it over Postgres.
 */
import type { TicketingEvent } from '@ticketing/platform';
import type {
  IdempotencyRow,
  OutboxRow,
  PaymentRefundRow,
  PaymentRow,
  PendingHoldRow,
  PriceTierRow,
  ReservationItemRow,
  ReservationRow,
  ReservationStatus,
  TicketRow,
} from './records';

export interface Page {
  limit: number;
  offset: number;
}

export type NewPriceTier = Omit<PriceTierRow, 'created_at'>;

export type NewReservation = Omit<
  ReservationRow,
  'created_at' | 'updated_at' | 'payment_id' | 'confirmed_at' | 'payment_ref' | 'session_starts_at'
> & {
  session_starts_at?: Date | null;
  created_at: Date;
  updated_at: Date;
};

export type NewTicket = Omit<TicketRow, 'refunded_at' | 'used_at' | 'checked_in_gate' | 'checked_in_by' | 'updated_at'>;

/** One row of a session's check-in list. */
export type SessionTicketState = Pick<TicketRow, 'id' | 'status' | 'used_at' | 'checked_in_gate' | 'updated_at'>;

export interface CheckInScan {
  id: string;
  ticket_id: string | null;
  session_id: string;
  gate: string | null;
  scanned_by: string | null;
  result: 'admitted' | 'already_used' | 'revoked' | 'wrong_session' | 'invalid_code';
  source: 'online' | 'offline';
  scanned_at: Date;
}

/** Where and by whom a ticket was admitted; `at` is an offline scan's own time (else the database's now()). */
export interface Admission {
  gate: string | null;
  by: string | null;
  at?: Date;
}

export interface IdempotencyClaim {
  userId: string;
  key: string;
  requestHash: string;
  reservationId: string;
}

export interface OutboxBacklog {
  rows: number;
  oldestAgeSeconds: number;
}

/** A hold about to be requested from the event service, journaled first. */
export interface PendingHold {
  reservationId: string;
  userId: string;
  sessionId: string;
  sessionSeatIds: string[];
}

/** What recording a pending hold under the per-user seat cap came to. */
export type CappedRecord = { kind: 'recorded' } | { kind: 'abandoned' } | { kind: 'cap_exceeded'; held: number };

/** A payment that still owes the provider a call, with what recovery needs to decide which one. */
export type UnsettledPayment = PaymentRow & { won: boolean };

export interface PriceTierRepository {
  insert(tier: NewPriceTier): Promise<PriceTierRow>;
  /** Inserts unless a tier with that id exists (the demo data). */
  insertIfMissing(tier: NewPriceTier): Promise<void>;
  findById(id: string): Promise<PriceTierRow | undefined>;
  findByIds(ids: string[]): Promise<PriceTierRow[]>;
  /** With a session id: that session's tiers and the global ones. */
  list(filter: { sessionId?: string; limit: number; offset: number }): Promise<PriceTierRow[]>;
}

export interface ReservationRepository {
  /**
   * Writes the reservation and its items in one statement, only if this reservation's live pending hold
   * could be cleared (deleted) by the same statement. False, with nothing written, when the sweep abandoned
   * the hold first. Atomic without a transaction of its own.
   */
  insertHeld(reservation: NewReservation, items: ReservationItemRow[]): Promise<boolean>;
  findById(id: string): Promise<ReservationRow | undefined>;
  /** Locks the row until the transaction ends (serialises refunds of one reservation's tickets). */
  lockById(id: string): Promise<ReservationRow | undefined>;
  listByUser(userId: string, page: Page): Promise<ReservationRow[]>;
  itemsOf(reservationIds: string[]): Promise<ReservationItemRow[]>;
  /**
   * In one statement: records the payment's authorization (only while its row is still pending: recovery
   * may have claimed it to void it), then active → confirmed only while the hold has not expired (the
   * database clock decides) and the payment was recorded, and, only if it did, the tickets and the outbox
   * row. Undefined when the reservation was no longer a live hold or the payment was claimed; the payment
   * row is then `authorized` (or claimed) and the caller must void it.
   */
  confirmWithTickets(
    id: string,
    payment: { paymentId: string; paymentRowId: string; authorizationId: string },
    tickets: NewTicket[],
    event: TicketingEvent,
  ): Promise<ReservationRow | undefined>;
  /** active → cancelled, only while the hold has not expired. */
  cancelIfLive(id: string): Promise<ReservationRow | undefined>;
  setStatus(id: string, from: ReservationStatus, to: ReservationStatus): Promise<ReservationRow | undefined>;
  /**
   * Takes up to `limit` active holds past their expiry, oldest first, skipping rows another sweep (or a
   * confirm) has locked, and marks them expired. Must run inside a transaction.
   */
  expireBatch(limit: number): Promise<ReservationRow[]>;
  /**
   * Marks the named reservations expired when they are still active past their expiry (the same conditional
   * update as the sweep: a confirm racing it has one winner). Must run inside a transaction.
   */
  expireLapsed(ids: string[]): Promise<ReservationRow[]>;
  statusesOf(ids: string[]): Promise<Array<Pick<ReservationRow, 'id' | 'status'>>>;
}

export interface TicketRepository {
  findById(id: string): Promise<TicketRow | undefined>;
  listByUser(userId: string, page: Page): Promise<TicketRow[]>;
  listByReservation(reservationId: string): Promise<TicketRow[]>;
  refundIfActive(id: string): Promise<TicketRow | undefined>;
  /**
   * active → used, only if still active: one conditional UPDATE, so of any number of concurrent scans exactly
   * one finds the row active (the others wait on its row lock, then see it used) — one admission per ticket.
   * `at` is the scan's own time (offline scans) or undefined for the database's now().
   */
  admitIfActive(id: string, admission: Admission): Promise<TicketRow | undefined>;
  /** Every ticket of a session, for the offline scanners' list (a few columns; no QR images). */
  statesOfSession(sessionId: string): Promise<SessionTicketState[]>;
  recordScans(scans: CheckInScan[]): Promise<void>;
  countNotRefunded(reservationId: string): Promise<number>;
}

export interface OutboxRepository {
  /** Stores the event with the current trace context, so the relay publishes it as part of this trace. */
  add(event: TicketingEvent): Promise<void>;
  addMany(events: TicketingEvent[]): Promise<void>;
  /** Deletes up to `limit` rows published more than `olderThanSeconds` ago, oldest first; returns how many. */
  purgePublished(olderThanSeconds: number, limit: number): Promise<number>;
  /** Unpublished rows, oldest first, locked for this transaction; rows another relay holds are skipped. */
  claimBatch(limit: number): Promise<OutboxRow[]>;
  /** One statement for the whole batch. */
  markPublished(ids: string[]): Promise<void>;
  /** attempts + 1 and the row's own last_error, for the whole batch in one statement. */
  markFailed(failures: Array<{ id: string; error: string }>): Promise<void>;
  backlog(): Promise<OutboxBacklog>;
}

export interface IdempotencyRepository {
  /** Inserts a new in-progress claim; undefined when the key already exists. */
  insertClaim(claim: IdempotencyClaim): Promise<IdempotencyRow | undefined>;
  /** The existing claim, locked for this transaction, with whether its lease is still running. */
  lock(userId: string, key: string, leaseMs: number): Promise<(IdempotencyRow & {
    leased: boolean;
  }) | undefined>;
  /** Takes over an abandoned claim: renews its lease, optionally with a fresh reservation id. */
  renew(userId: string, key: string, reservationId: string): Promise<void>;
  /** The attempt `fromId` moves to a fresh reservation id; false when another attempt owns the key now. */
  renewAttempt(userId: string, key: string, fromId: string, toId: string): Promise<boolean>;
  /** Stores the answer of the attempt `reservationId`; false when another attempt owns the key now. */
  complete(userId: string, key: string, reservationId: string, status: number, body: unknown): Promise<boolean>;
  /**
   * Ends the lease of a failed attempt at once, so the client's retry can proceed without waiting; only
   * while that attempt still owns the key (never the lease of a retry that took over).
   */
  abandon(userId: string, key: string, reservationId: string): Promise<void>;
}

export interface PendingHoldRepository {
  /**
   * Records that a hold for this reservation id is about to be requested. False when the id was already
   * abandoned by the sweep (its release is under way), so the caller must not use it.
   */
  record(hold: PendingHold): Promise<boolean>;
  /**
   * record(), but only if the user's seats in this session (active unexpired reservations plus other
   * pending holds) plus these stay within `cap`. Serialised per (user, session) by a transaction-level
   * advisory lock, so parallel requests of one user cannot together exceed the cap.
   */
  recordWithinCap(hold: PendingHold, cap: number): Promise<CappedRecord>;
  /** Clears a live pending hold; false when the sweep abandoned it first. */
  clear(reservationId: string): Promise<boolean>;
  /** Marks pending holds older than `olderThanSeconds` abandoned (oldest first, skipping locked rows). */
  abandonStale(olderThanSeconds: number, limit: number): Promise<PendingHoldRow[]>;
  /** Of the given reservation ids, those whose hold request may still be running (pending, not abandoned). */
  liveOf(reservationIds: string[]): Promise<Set<string>>;
  /** Forgets abandoned ids once no retry could plausibly still carry them. */
  purgeAbandoned(olderThanSeconds: number): Promise<number>;
}

export interface PaymentRepository {
  /** Journals a confirm attempt's payment before the provider is asked, so a crash cannot lose an authorization. */
  start(payment: { id: string; reservationId: string; paymentId: string; amount: string }): Promise<void>;
  findById(id: string): Promise<PaymentRow | undefined>;
  listByReservation(reservationId: string): Promise<PaymentRow[]>;
  markDeclined(id: string, reason: string): Promise<void>;
  /** authorized → captured (the whole authorized amount). */
  markCaptured(id: string): Promise<boolean>;
  /** Any not yet settled state → voided, remembering the authorization that was voided. */
  markVoided(id: string, authorizationId: string | null): Promise<boolean>;
  /**
   * Payments older than `olderThanSeconds` that still owe the provider a call: pending/voiding ones (their
   * request died around the authorization) are claimed as `voiding`, so a late confirm of theirs can no
   * longer win; authorized ones come with `won` (the reservation is confirmed with this very payment).
   */
  claimUnsettled(olderThanSeconds: number, limit: number): Promise<UnsettledPayment[]>;
  /** Journals a ticket's refund (in the refund's transaction); the provider is asked after the commit. */
  addRefund(refund: { id: string; paymentRowId: string; ticketId: string; amount: string }): Promise<void>;
  findRefundByTicket(ticketId: string): Promise<PaymentRefundRow | undefined>;
  /** pending → done, adding the amount to the payment's refunded total (refunded once all of it is). */
  markRefunded(refundId: string, providerRefundId: string): Promise<boolean>;
  /** Refunds journaled longer ago than `olderThanSeconds` whose provider call has not succeeded yet. */
  staleRefunds(olderThanSeconds: number, limit: number): Promise<Array<PaymentRefundRow & {
    authorization_id: string | null;
    payment_state: string;
  }>>;
}

export interface BookingRepositories {
  priceTiers: PriceTierRepository;
  reservations: ReservationRepository;
  tickets: TicketRepository;
  outbox: OutboxRepository;
  idempotency: IdempotencyRepository;
  pendingHolds: PendingHoldRepository;
  payments: PaymentRepository;
}

/** The repositories, plus `transaction(fn)` giving the same repositories bound to one database transaction. */
export interface BookingStore extends BookingRepositories {
  transaction<T>(work: (tx: BookingRepositories) => Promise<T>): Promise<T>;
}
