/**
 * The seat inventory of a session: the only place that decides when a session seat may be held,
 * released, sold or returned to sale. The internal API (booking's synchronous calls) goes through these
 * functions; the RabbitMQ consumer (booking's asynchronous events) applies the same rules, in batches,
 * through booking-events.ts.
 *
 * Every change runs in one transaction that first locks the affected seats in id order (so concurrent
 * callers queue instead of deadlocking), decides from their locked state, and then applies conditional
 * updates whose WHERE clauses repeat the rule, so Postgres refuses anything the decision did not allow.
 * A hold, the hot path, is one statement (SeatInventoryStore.tryHold): it locks in id order, decides in SQL
 * and holds all or nothing. For holds, that statement's `decision` (data-access/seat-inventory-repository.ts)
 * is the rule; planHold is its explanation: it reads the same locked states to say which seats were refused
 * and why. Release, sale and refund are decided here, by their plan* functions.
 */
import { AppError, conflict, notFound, unprocessable } from '@ticketing/platform';
import { CURRENCY, moneyToNumber } from './money';

export type SeatStatus = 'available' | 'reserved' | 'sold';
export type HoldableStatus = Exclude<SeatStatus, 'available'>;

export interface SeatState {
  id: string;
  status: SeatStatus;
  reservation_id: string | null;
}

export interface SeatDetails extends SeatState {
  seat_id: string;
  row_number: string;
  seat_number: string;
  seat_type: string;
  price: string;
  reserved_until: Date | null;
}

export interface SessionSummary {
  id: string;
  start_time: Date;
  base_price: string;
}

export interface SeatInventoryTransaction {
  /** Current state of the given seats of the session, locked FOR UPDATE in id order. */
  lockSeats(sessionId: string, seatIds: string[]): Promise<SeatState[]>;
  /** reserved by the reservation (or, with includeUnheld, available) → sold; returns rows changed. */
  sell(sessionId: string, seatIds: string[], reservationId: string, includeUnheld: boolean): Promise<number>;
  /** reserved/sold by the reservation (the given statuses only) → available; returns rows changed. */
  free(sessionId: string, seatIds: string[], reservationId: string, from: HoldableStatus[]): Promise<number>;
  seatDetails(sessionId: string, seatIds: string[]): Promise<SeatDetails[]>;
  /** Which of the seats were refunded for this reservation, ever. */
  refundedSeatIds(reservationId: string, seatIds: string[]): Promise<Set<string>>;
}

/** What one hold attempt found and did; see SeatInventoryStore.tryHold. */
export interface HoldAttempt {
  session: { id: string; start_time: Date };
  /**
   * The requested seats of the session as they were when locked (before the hold), except `reserved_until`,
   * which is the value after it; `held` marks the seats this attempt changed from available to reserved.
   */
  seats: Array<SeatDetails & { held: boolean }>;
}

/** What placing a hold needs: the store itself, or its view inside a batch's transaction. */
export interface HoldStore {
  findSession(sessionId: string): Promise<SessionSummary | undefined>;
  /**
   * The whole hold in one statement (one round trip, its own transaction): unless the session is missing or
   * has started by `now`, locks the requested seats in id order and, only if every one of them is in the
   * session and holdable by the reservation (the hold rule, which planHold explains: available, or already reserved by it),
   * holds the available ones. Otherwise changes nothing. Undefined when the session does not exist.
   */
  tryHold(command: HoldCommand, now: Date): Promise<HoldAttempt | undefined>;
  /** tryHold for each command in one statement, answers in order; no seat may be asked for by two commands. */
  tryHolds(commands: HoldCommand[], now: Date): Promise<Array<HoldAttempt | undefined>>;
  transaction<T>(work: (tx: SeatInventoryTransaction) => Promise<T>): Promise<T>;
}

export interface SeatInventoryStore extends HoldStore {
  /** Runs `work` in one transaction: the holds placed through its HoldStore commit (or roll back) together. */
  holdTransaction<T>(work: (store: HoldStore) => Promise<T>): Promise<T>;
  /** Unlocked read of the given seats' states (for availability checks). */
  seatStates(sessionId: string, seatIds: string[]): Promise<SeatState[]>;
  /** Prices of the given seats of the session, or of all of them. */
  seatPrices(sessionId: string, seatIds?: string[]): Promise<Array<{ id: string; price: string }>>;
}

// ---- the rules, as pure functions of the locked seat states --------------------------------------------

const heldBy = (seat: SeatState, reservationId: string, status: HoldableStatus = 'reserved') =>
  seat.status === status && seat.reservation_id === reservationId;

export interface HoldPlan {
  toHold: string[];
  unavailable: Array<{ session_seat_id: string; status: SeatStatus | 'not_found' }>;
}

/**
 * A hold takes available seats; seats this reservation already holds count as taken (idempotent repeat).
 * The explanation, not the rule: the hold statement's `decision` in seat-inventory-repository.ts decides (in
 * SQL, under the row locks); this restates it to name the refused seats. Keep the two saying the same.
 */
export function planHold(requested: string[], seats: SeatState[], reservationId: string): HoldPlan {
  const byId = new Map(seats.map((seat) => [seat.id, seat]));
  const plan: HoldPlan = { toHold: [], unavailable: [] };
  for (const id of requested) {
    const seat = byId.get(id);
    if (!seat) plan.unavailable.push({ session_seat_id: id, status: 'not_found' });
    else if (seat.status === 'available') plan.toHold.push(id);
    else if (!heldBy(seat, reservationId)) plan.unavailable.push({ session_seat_id: id, status: seat.status });
  }
  return plan;
}

export interface ReleasePlan {
  toFree: string[];
  /** Seats in the requested end state already: nobody holds them any more. */
  alreadyFree: string[];
}

/** A release frees only seats this reservation still holds; anyone else's hold or sale is left alone. */
export function planRelease(seats: SeatState[], reservationId: string): ReleasePlan {
  return {
    toFree: seats.filter((seat) => heldBy(seat, reservationId)).map((seat) => seat.id),
    alreadyFree: seats.filter((seat) => seat.status === 'available').map((seat) => seat.id),
  };
}

export interface SalePlan {
  toSell: string[];
  alreadySold: string[];
  /** Refunded before the confirm arrived: they must end available, not sold. */
  toFree: string[];
  /** Not held by this reservation and not free to take: held or sold by another reservation. */
  conflicts: SeatState[];
  /** Free seats the reservation did not hold (only sold when the caller honours a confirmed booking). */
  unheld: string[];
}

/**
 * A sale turns this reservation's held seats into sold ones. Booking confirmed the reservation, so a seat
 * nobody holds is sold too when `includeUnheld` (the consumer honouring rule 3); a seat held or sold by
 * another reservation is never touched. Seats refunded for this reservation are freed instead of sold.
 */
export function planSale(
  seats: SeatState[],
  reservationId: string,
  refunded: Set<string> = new Set(),
  includeUnheld = false,
): SalePlan {
  const plan: SalePlan = { toSell: [], alreadySold: [], toFree: [], conflicts: [], unheld: [] };
  for (const seat of seats) {
    const mine = seat.reservation_id === reservationId;
    if (refunded.has(seat.id)) {
      if (mine && seat.status !== 'available') plan.toFree.push(seat.id);
    } else if (heldBy(seat, reservationId)) plan.toSell.push(seat.id);
    else if (heldBy(seat, reservationId, 'sold')) plan.alreadySold.push(seat.id);
    else if (seat.status === 'available') {
      plan.unheld.push(seat.id);
      if (includeUnheld) plan.toSell.push(seat.id);
    } else plan.conflicts.push(seat);
  }
  return plan;
}

/** A refund returns this reservation's seats to sale, whether the sale was applied yet or not. */
export function planRefund(seats: SeatState[], reservationId: string): string[] {
  return seats
    .filter((seat) => seat.status !== 'available' && seat.reservation_id === reservationId)
    .map((seat) => seat.id);
}

// ---- use cases ---------------------------------------------------------------------------------------

export interface HoldCommand {
  sessionId: string;
  reservationId: string;
  seatIds: string[];
  reservedUntil: Date;
}

export interface ReservationSeatsCommand {
  sessionId: string;
  reservationId: string;
  seatIds: string[];
}

const seatsUnavailable = (unavailable: HoldPlan['unavailable']) =>
  conflict('SEATS_UNAVAILABLE', 'Seat already locked by another user', { unavailable });

async function requireSession(store: Pick<HoldStore, 'findSession'>, sessionId: string): Promise<SessionSummary> {
  const session = await store.findSession(sessionId);
  if (!session) throw notFound('Session', sessionId);
  return session;
}

export async function checkAvailability(store: SeatInventoryStore, sessionId: string, seatIds: string[]) {
  await requireSession(store, sessionId);
  const byId = new Map((await store.seatStates(sessionId, seatIds)).map((seat) => [seat.id, seat]));
  const seats = seatIds.map((id) => ({
    session_seat_id: id,
    status: byId.get(id)?.status ?? ('not_found' as const),
  }));
  return { available: seats.every((seat) => seat.status === 'available'), seats };
}

export async function getPricing(store: SeatInventoryStore, sessionId: string, seatIds?: string[]) {
  const session = await requireSession(store, sessionId);
  const prices = await store.seatPrices(sessionId, seatIds);
  if (seatIds) {
    const found = new Set(prices.map((seat) => seat.id));
    const missing = seatIds.filter((id) => !found.has(id));
    if (missing.length) {
      throw new AppError(404, 'SEATS_NOT_FOUND', 'Some seats do not belong to this session', { not_found: missing });
    }
  }
  return {
    session_id: session.id,
    base_price: moneyToNumber(session.base_price),
    currency: CURRENCY,
    seats: prices.map((seat) => ({ session_seat_id: seat.id, price: moneyToNumber(seat.price) })),
  };
}

/**
 * Holds every requested seat for the reservation, or none (409 listing the seats that are not available).
 * Repeating the call for seats the reservation already holds succeeds and changes nothing.
 */
export async function placeHold(store: HoldStore, command: HoldCommand, now = new Date()) {
  const sessionStarted = (session: { id: string; start_time: Date }) =>
    conflict('SESSION_STARTED', 'The session has already started; its seats can no longer be reserved', {
      session_id: session.id,
      start_time: session.start_time.toISOString(),
    });
  if (command.reservedUntil.getTime() <= now.getTime()) {
    // Rare path: the session's existence and start are still answered first (404, then 409, then 422).
    const session = await requireSession(store, command.sessionId);
    if (session.start_time.getTime() <= now.getTime()) throw sessionStarted(session);
    throw unprocessable('reserved_until must be in the future', { reserved_until: command.reservedUntil.toISOString() });
  }
  const attempt = await store.tryHold(command, now);
  if (!attempt) throw notFound('Session', command.sessionId);
  if (attempt.session.start_time.getTime() <= now.getTime()) throw sessionStarted(attempt.session);
  // The statement applied the same rule to the same locked rows; planHold explains a refusal.
  const plan = planHold(command.seatIds, attempt.seats, command.reservationId);
  const heldNow = attempt.seats.filter((seat) => seat.held).map((seat) => seat.id);
  if (plan.unavailable.length || heldNow.length !== plan.toHold.length) {
    if (heldNow.length) {
      // Cannot happen while both apply one rule; if it ever does, undo this call's holds: all or nothing.
      await store.transaction((tx) => tx.free(command.sessionId, heldNow, command.reservationId, ['reserved']));
    }
    throw seatsUnavailable(plan.unavailable);
  }
  const byId = new Map(attempt.seats.map((seat) => [seat.id, seat]));
  const ordered = command.seatIds.map((id) => byId.get(id)!);
  const reservedUntil = ordered.reduce<Date>(
    (earliest, seat) => (seat.reserved_until && seat.reserved_until < earliest ? seat.reserved_until : earliest),
    ordered[0]?.reserved_until ?? command.reservedUntil,
  );
  return {
    reservation_id: command.reservationId,
    session_id: command.sessionId,
    reserved_until: reservedUntil.toISOString(),
    // The booking service keeps it with the reservation (its refund cutoff).
    session_start_time: attempt.session.start_time.toISOString(),
    seats: ordered.map((seat) => ({
      session_seat_id: seat.id,
      seat_id: seat.seat_id,
      row_number: seat.row_number,
      seat_number: seat.seat_number,
      seat_type: seat.seat_type,
      price: moneyToNumber(seat.price),
      status: 'reserved' as const,
    })),
  };
}

/** Returns the reservation's held seats to sale. Seats held or sold by anyone else are left alone. */
export async function releaseHold(store: SeatInventoryStore, command: ReservationSeatsCommand) {
  await requireSession(store, command.sessionId);
  const released = await store.transaction(async (tx) => {
    const plan = planRelease(await tx.lockSeats(command.sessionId, command.seatIds), command.reservationId);
    if (plan.toFree.length) await tx.free(command.sessionId, plan.toFree, command.reservationId, ['reserved']);
    return new Set([...plan.toFree, ...plan.alreadyFree]);
  });
  return { reservation_id: command.reservationId, released: command.seatIds.filter((id) => released.has(id)) };
}

/** Sells the seats the reservation holds (booking's synchronous confirm). Other seats are left alone. */
export async function sellHold(store: SeatInventoryStore, command: ReservationSeatsCommand) {
  await requireSession(store, command.sessionId);
  const sold = await store.transaction(async (tx) => {
    const locked = await tx.lockSeats(command.sessionId, command.seatIds);
    const refunded = await tx.refundedSeatIds(command.reservationId, command.seatIds);
    const plan = planSale(locked, command.reservationId, refunded);
    if (plan.toSell.length) await tx.sell(command.sessionId, plan.toSell, command.reservationId, false);
    if (plan.toFree.length) await tx.free(command.sessionId, plan.toFree, command.reservationId, ['reserved', 'sold']);
    return new Set([...plan.toSell, ...plan.alreadySold]);
  });
  return { reservation_id: command.reservationId, sold: command.seatIds.filter((id) => sold.has(id)) };
}
