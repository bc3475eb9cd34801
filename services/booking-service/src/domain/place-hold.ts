import { randomUUID } from 'node:crypto';
import {
  AppError,
  centsToDecimal,
  conflict,
  notFound,
  serviceUnavailable,
  toCents,
  unprocessable,
  withSpan,
} from '@ticketing/platform';
import type { BookingRepositories } from './store';
import {
  EventServiceRejectedError,
  EventServiceUnavailableError,
  type ReserveResult,
} from './event-service';
import type { PriceTierRow, ReservationItemRow } from './records';
import { claimIdempotencyKey, requestFingerprint } from './idempotency';
import { applyMultiplier, sumCents, toBasisPoints } from './money';
import {
  LockServiceError,
  SeatsLockedError,
  secondsSince,
  type BookingDeps,
  type LockResult,
  type ReservationOutcome,
} from './ports';
import { toReservationBody, type ReservationBody } from './reservation-view';

export interface SeatRequest {
  session_seat_id: string;
  row_number?: string | number;
  seat_number?: string | number;
  price_tier_id?: string;
}

export interface PlaceHoldInput {
  userId: string;
  sessionId: string;
  seats: SeatRequest[];
  idempotencyKey?: string;
}

export interface PlaceHoldResult {
  status: number;
  body: ReservationBody;
}

const FULL_PRICE_BP = 10_000;
const TRACER = 'booking-service';

/** The sweep gave up on this hold (and asked for its release) before the reservation could be written. */
class HoldAbandonedError extends Error {}

/**
 * POST /reservations: validate price tiers, take one Redlock lock over all seats (contended → 409 at once),
 * place the hold at the event service in one call (availability, prices and seat labels come back with it),
 * write the reservation and its items in one statement that also clears the pending hold, release the lock.
 * A hold placed by a request that then fails is released; one the process could not release is left in
 * `pending_holds` for the sweep.
 */
export async function placeHold(deps: BookingDeps, input: PlaceHoldInput): Promise<PlaceHoldResult> {
  const attributes = {
    'ticketing.session_id': input.sessionId,
    'ticketing.seat_count': input.seats.length,
    'ticketing.idempotent': input.idempotencyKey !== undefined,
  };
  return withSpan(TRACER, 'reservation.place', { attributes }, async (span) => {
    const started = process.hrtime.bigint();
    let outcome: ReservationOutcome = 'error';
    try {
      const result = input.idempotencyKey
        ? await placeHoldIdempotently(deps, input, input.idempotencyKey)
        : await createReservation(deps, input, randomUUID());
      outcome = 'created';
      span?.setAttribute('ticketing.reservation_id', result.body.id);
      return result;
    } catch (error) {
      outcome = classifyOutcome(error);
      throw error;
    } finally {
      span?.setAttribute('ticketing.outcome', outcome);
      deps.metrics.reservationDuration(outcome, secondsSince(started));
    }
  });
}

function classifyOutcome(error: unknown): ReservationOutcome {
  if (!(error instanceof AppError) || error.status >= 500) return 'error';
  return error.status === 409 ? 'conflict' : 'rejected';
}

async function placeHoldIdempotently(deps: BookingDeps, input: PlaceHoldInput, key: string): Promise<PlaceHoldResult> {
  const fingerprint = requestFingerprint({ session_id: input.sessionId, seats: input.seats });
  const claim = await claimIdempotencyKey(deps.store, { userId: input.userId, key, fingerprint }, deps.settings.idempotencyLeaseMs);
  if (claim.kind === 'replay') return { status: claim.status, body: claim.body as ReservationBody };
  // This attempt's reservation id is its fencing token: every write to the key is conditional on it, so an
  // attempt a later retry took over can neither answer for the key nor end the retry's lease.
  let attemptId = claim.reservationId;
  try {
    return await createReservation(deps, input, claim.reservationId, {
      onReservationIdChanged: async (id) => {
        if (!(await deps.store.idempotency.renewAttempt(input.userId, key, attemptId, id))) throw attemptSuperseded(key);
        attemptId = id;
      },
      beforeCommit: async (tx, result) => {
        if (!(await tx.idempotency.complete(input.userId, key, attemptId, result.status, result.body))) throw attemptSuperseded(key);
      },
    });
  } catch (error) {
    await deps.store.idempotency.abandon(input.userId, key, attemptId).catch((abandonError: unknown) => {
      deps.logger.warn({ err: abandonError, idempotency_key: key }, 'Could not end the Idempotency-Key lease');
    });
    throw error;
  }
}

const attemptSuperseded = (key: string) =>
  conflict(
    'IDEMPOTENCY_ATTEMPT_SUPERSEDED',
    'A later retry with this Idempotency-Key took over this request; the retry’s answer is the one that counts',
    { idempotency_key: key },
  );

interface CreateHooks {
  onReservationIdChanged?(reservationId: string): Promise<void>;
  beforeCommit?(tx: BookingRepositories, result: PlaceHoldResult): Promise<void>;
}

async function createReservation(
  deps: BookingDeps,
  input: PlaceHoldInput,
  candidateId: string,
  hooks: CreateHooks = {},
): Promise<PlaceHoldResult> {
  const seatIds = input.seats.map((seat) => seat.session_seat_id);
  const tiers = await resolvePriceTiers(deps, input);

  const releaseLock = await lockSeats(deps, seatIds);
  const lockedAt = process.hrtime.bigint();

  try {
    const reservationId = await recordPendingHold(deps, input, candidateId, hooks);
    const bookingTime = new Date();
    const expiryTime = new Date(bookingTime.getTime() + deps.settings.reservationTtlSeconds * 1000);
    const hold = { sessionId: input.sessionId, reservationId, sessionSeatIds: seatIds };

    const reserved = await withSpan(
      TRACER,
      'event_service.hold',
      { attributes: { 'ticketing.reservation_id': reservationId, 'ticketing.seat_count': seatIds.length } },
      async () => {
        try {
          return await deps.eventService.reserveSeats({ ...hold, reservedUntil: expiryTime });
        } catch (error) {
          if (error instanceof EventServiceUnavailableError && error.mayHaveApplied) await releaseHold(deps, hold, error);
          else await forgetPendingHold(deps, reservationId);
          throw translateEventServiceError(error, input.sessionId);
        }
      },
    );

    try {
      const result = buildReservation(input, reservationId, reserved, tiers, bookingTime, expiryTime);
      const abandoned = () => new HoldAbandonedError('hold was abandoned by the sweep');
      const { beforeCommit } = hooks;
      if (beforeCommit) {
        // The Idempotency-Key's answer is stored in the same transaction as the reservation.
        await deps.store.transaction(async (tx) => {
          if (!(await tx.reservations.insertHeld(result.reservation, result.items))) throw abandoned();
          await beforeCommit(tx, { status: 201, body: result.body });
        });
      } else if (!(await deps.store.reservations.insertHeld(result.reservation, result.items))) {
        // One statement clears the pending hold and writes the reservation with its items (one round trip).
        throw abandoned();
      }
      return { status: 201, body: result.body };
    } catch (error) {
      await releaseHold(deps, hold, error);
      if (error instanceof HoldAbandonedError) {
        throw serviceUnavailable('RESERVATION_ABORTED', 'The reservation took too long and was rolled back, try again');
      }
      throw error;
    }
  } finally {
    await releaseLock();
    deps.metrics.lockHeld(secondsSince(lockedAt));
  }
}

/**
 * One Redlock lock over all the seats, without waiting: a contender gets 409 SEAT_LOCKED at once, an
 * unreachable Redis 503. Reports the attempt's result and duration, and the seats of a contended attempt.
 */
function lockSeats(deps: BookingDeps, seatIds: string[]): Promise<() => Promise<void>> {
  const attributes = { 'ticketing.seat_count': seatIds.length };
  return withSpan(TRACER, 'seat_lock.acquire', { attributes }, async (span) => {
    const started = process.hrtime.bigint();
    const report = (result: LockResult) => {
      span?.setAttribute('ticketing.lock_result', result);
      deps.metrics.lockAcquisition(result, secondsSince(started), seatIds.length);
    };
    try {
      const release = await deps.seatLocker.lockSeats(seatIds, deps.settings.lockTtlMs);
      report('acquired');
      return release;
    } catch (error) {
      if (error instanceof SeatsLockedError) {
        report('contended');
        throw conflict('SEAT_LOCKED', 'Seat already locked by another user', { session_seat_ids: seatIds });
      }
      report('error');
      if (error instanceof LockServiceError) {
        deps.logger.error({ err: error }, 'Seat lock service unavailable');
        throw serviceUnavailable('LOCK_SERVICE_UNAVAILABLE', 'Seat locking is temporarily unavailable, try again');
      }
      throw error;
    }
  });
}

async function resolvePriceTiers(deps: BookingDeps, input: PlaceHoldInput): Promise<Map<string, PriceTierRow>> {
  const ids = [...new Set(input.seats.map((seat) => seat.price_tier_id).filter((id): id is string => id !== undefined))];
  const rows = await deps.store.priceTiers.findByIds(ids);
  const tiers = new Map(rows.map((row) => [row.id, row]));
  const problems: Array<{ price_tier_id: string; reason: string }> = [];
  for (const id of ids) {
    const tier = tiers.get(id);
    if (!tier) problems.push({ price_tier_id: id, reason: 'unknown price tier' });
    else if (tier.session_id !== null && tier.session_id !== input.sessionId) {
      problems.push({ price_tier_id: id, reason: 'price tier belongs to another session' });
    }
  }
  if (problems.length) throw unprocessable('Invalid price tier', { price_tiers: problems }, 'INVALID_PRICE_TIER');
  return tiers;
}

/**
 * Journals the hold before asking for it, so a crash between hold and commit cannot orphan it; in the same
 * step enforces the per-user seat cap (the journal counts as held, so parallel requests of one user see
 * each other).
 */
async function recordPendingHold(deps: BookingDeps, input: PlaceHoldInput, candidateId: string, hooks: CreateHooks) {
  const hold = { userId: input.userId, sessionId: input.sessionId, sessionSeatIds: input.seats.map((s) => s.session_seat_id) };
  const cap = deps.settings.maxSeatsPerUserPerSession;
  const record = async (reservationId: string) => {
    const result = await deps.store.pendingHolds.recordWithinCap({ ...hold, reservationId }, cap);
    if (result.kind === 'cap_exceeded') {
      throw conflict('SEAT_CAP_EXCEEDED', `At most ${cap} seats per user can be held for one session`, {
        limit: cap,
        held: result.held,
        requested: hold.sessionSeatIds.length,
        session_id: input.sessionId,
      });
    }
    return result.kind === 'recorded';
  };
  if (await record(candidateId)) return candidateId;
  // The sweep already released this id (a retry long after a crashed attempt): never reuse it.
  const fresh = randomUUID();
  await hooks.onReservationIdChanged?.(fresh);
  if (!(await record(fresh))) throw new Error(`Could not record pending hold ${fresh}`);
  return fresh;
}

async function forgetPendingHold(deps: BookingDeps, reservationId: string) {
  await deps.store.pendingHolds.clear(reservationId).catch((error: unknown) => {
    // Harmless: the sweep will send a release for a hold that does not exist.
    deps.logger.warn({ err: error, reservation_id: reservationId }, 'Could not clear pending hold');
  });
}

/** Best effort: release at the event service now; if that fails, the sweep releases it later via the outbox. */
async function releaseHold(
  deps: BookingDeps,
  hold: { sessionId: string; reservationId: string; sessionSeatIds: string[] },
  cause: unknown,
) {
  deps.logger.warn({ err: cause, reservation_id: hold.reservationId }, 'Reservation failed after the hold; releasing it');
  try {
    await deps.eventService.releaseSeats(hold);
  } catch (error) {
    deps.logger.error(
      { err: error, reservation_id: hold.reservationId },
      'Could not release the hold; the expiry sweep will release it',
    );
    return;
  }
  await forgetPendingHold(deps, hold.reservationId);
}

function translateEventServiceError(error: unknown, sessionId: string): unknown {
  if (error instanceof EventServiceUnavailableError) {
    return serviceUnavailable('EVENT_SERVICE_UNAVAILABLE', 'The event service is unavailable, try again shortly');
  }
  if (!(error instanceof EventServiceRejectedError)) return error;
  if (error.status === 404) return notFound('Session', sessionId);
  if (error.status === 409 && error.code === 'SEATS_UNAVAILABLE') {
    return conflict('SEATS_UNAVAILABLE', error.message || 'Seat already locked by another user', {
      unavailable: (error.details?.unavailable as unknown[] | undefined) ?? [],
    });
  }
  if (error.status === 409) return conflict(error.code, error.message, error.details);
  return new AppError(502, 'EVENT_SERVICE_ERROR', 'The event service refused the hold unexpectedly', {
    status: error.status,
    code: error.code,
  });
}

function buildReservation(
  input: PlaceHoldInput,
  reservationId: string,
  reserved: ReserveResult,
  tiers: Map<string, PriceTierRow>,
  bookingTime: Date,
  expiryTime: Date,
) {
  const bySeat = new Map(reserved.seats.map((seat) => [seat.session_seat_id, seat]));
  const items: ReservationItemRow[] = input.seats.map((request, position) => {
    const seat = bySeat.get(request.session_seat_id);
    if (!seat) throw new Error(`Event service did not return held seat ${request.session_seat_id}`);
    const tier = request.price_tier_id ? tiers.get(request.price_tier_id) : undefined;
    const priced = applyMultiplier(toCents(seat.price), tier ? toBasisPoints(tier.multiplier) : FULL_PRICE_BP);
    return {
      id: randomUUID(),
      reservation_id: reservationId,
      session_seat_id: seat.session_seat_id,
      seat_id: seat.seat_id ?? null,
      row_number: seat.row_number,
      seat_number: seat.seat_number,
      seat_type: seat.seat_type ?? null,
      price: centsToDecimal(priced.priceCents),
      discount_amount: centsToDecimal(priced.discountCents),
      final_price: centsToDecimal(priced.finalCents),
      price_tier_id: tier?.id ?? null,
      position,
    };
  });
  const totalCents = sumCents(items.map((item) => toCents(item.final_price)));
  const reservation = {
    id: reservationId,
    user_id: input.userId,
    session_id: input.sessionId,
    booking_time: bookingTime,
    expiry_time: expiryTime,
    seats_count: items.length,
    total_amount: centsToDecimal(totalCents),
    status: 'active' as const,
    session_starts_at: reserved.session_start_time ? new Date(reserved.session_start_time) : null,
    created_at: bookingTime,
    updated_at: bookingTime,
  };
  const body = toReservationBody({ ...reservation, payment_id: null, payment_ref: null, confirmed_at: null }, items, bookingTime.getTime());
  return { reservation, items, body };
}
