import { randomUUID } from 'node:crypto';
import { conflict, serviceUnavailable, unprocessable } from '@ticketing/platform';
import type { PriceTierRow } from './records';
import { requestFingerprint, withIdempotencyKey, type AttemptHooks } from './idempotency';
import { instrumented, refusalOutcome } from './instrumented';
import { newReservationRows, revivedHoldAnswer, storedHoldAnswer, type HoldAnswer } from './new-reservation';
import type { BookingDeps, ReservationOutcome } from './ports';
import { withSeatLock } from './seat-lock';

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

/** The new hold (201), or a replayed answer: the stored hold, or a body an older version stored rendered. */
export type PlaceHoldResult = { status: number; hold: HoldAnswer } | { status: number; rendered: unknown };

/**
 * POST /reservations: validate price tiers, take one Redlock lock over all seats (contended → 409 at once),
 * journal the pending hold (and check the per-user cap), place the hold at the event service in one call
 * (availability, prices and seat labels come back with it), write the reservation and its items in one
 * statement that also clears the pending hold, release the lock. A hold placed by a request that then fails
 * is released; one the process could not release is left in `pending_holds` for the sweep.
 */
export function placeHold(deps: BookingDeps, input: PlaceHoldInput): Promise<PlaceHoldResult> {
  const attributes = {
    'ticketing.session_id': input.sessionId,
    'ticketing.seat_count': input.seats.length,
    'ticketing.idempotent': input.idempotencyKey !== undefined,
  };
  const measure = {
    outcomeOf: () => 'created' as const,
    outcomeOfError: refusalOutcome,
    record: (outcome: ReservationOutcome, seconds: number) => deps.metrics.reservationDuration(outcome, seconds),
  };
  return instrumented<PlaceHoldResult, ReservationOutcome>('reservation.place', attributes, measure, async (span) => {
    const key = input.idempotencyKey;
    const result = key
      ? await withIdempotencyKey<PlaceHoldResult>(
          { store: deps.store, logger: deps.logger, leaseMs: deps.settings.idempotencyLeaseMs },
          { userId: input.userId, key, fingerprint: requestFingerprint({ session_id: input.sessionId, seats: input.seats }) },
          (reservationId, hooks) => createReservation(deps, input, reservationId, hooks),
          (status, stored) => {
            const hold = revivedHoldAnswer(stored);
            return hold ? { status, hold } : { status, rendered: stored };
          },
        )
      : await createReservation(deps, input, randomUUID());
    if ('hold' in result) span?.setAttribute('ticketing.reservation_id', result.hold.reservation.id);
    return result;
  });
}

async function createReservation(
  deps: BookingDeps,
  input: PlaceHoldInput,
  candidateId: string,
  hooks?: AttemptHooks,
): Promise<PlaceHoldResult> {
  const seatIds = input.seats.map((seat) => seat.session_seat_id);
  const tiers = await resolvePriceTiers(deps, input);
  return withSeatLock(deps, seatIds, async () => {
    const reservationId = await recordPendingHold(deps, input, candidateId, hooks);
    const bookingTime = new Date();
    const expiryTime = new Date(bookingTime.getTime() + deps.settings.reservationTtlSeconds * 1000);
    const hold = { sessionId: input.sessionId, reservationId, sessionSeatIds: seatIds };
    const held = await deps.seatHolds.place({ ...hold, reservedUntil: expiryTime });
    try {
      const { reservation, items } = newReservationRows({ ...input, reservationId }, held, tiers, bookingTime, expiryTime);
      const answer: HoldAnswer = { reservation, items, answeredAt: bookingTime };
      // One statement clears the pending hold and writes the reservation with its items; false: the sweep
      // gave up on this hold (and asked for its release) first. With an Idempotency-Key, the key's answer is
      // stored in the same transaction.
      const written = hooks
        ? await deps.store.transaction(async (tx) => {
            if (!(await tx.reservations.insertHeld(reservation, items))) return false;
            await hooks.beforeCommit(tx, 201, storedHoldAnswer(answer));
            return true;
          })
        : await deps.store.reservations.insertHeld(reservation, items);
      if (!written) throw new HoldAbandonedError();
      return { status: 201, hold: answer };
    } catch (error) {
      await deps.seatHolds.release(hold, error);
      if (error instanceof HoldAbandonedError) {
        throw serviceUnavailable('RESERVATION_ABORTED', 'The reservation took too long and was rolled back, try again');
      }
      throw error;
    }
  });
}

/** The sweep gave up on this hold (and asked for its release) before the reservation could be written. */
class HoldAbandonedError extends Error {
  constructor() {
    super('hold was abandoned by the sweep');
  }
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
async function recordPendingHold(deps: BookingDeps, input: PlaceHoldInput, candidateId: string, hooks?: AttemptHooks) {
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
  await hooks?.onReservationIdChanged(fresh);
  if (!(await record(fresh))) throw new Error(`Could not record pending hold ${fresh}`);
  return fresh;
}
