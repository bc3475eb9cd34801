import { createHash, randomUUID } from 'node:crypto';
import { conflict, unprocessable } from '@ticketing/platform';
import type { Logger } from '@ticketing/platform';
import type { BookingRepositories, BookingStore } from './store';

export type IdempotencyClaim =
  | { kind: 'claimed'; reservationId: string }
  | { kind: 'replay'; status: number; body: unknown };

/** A stable fingerprint of a parsed request body (key order is the schema's, so it is canonical). */
export const requestFingerprint = (body: unknown) => createHash('sha256').update(JSON.stringify(body)).digest('hex');

const WAIT_STEP_MS = 50;
const MAX_WAIT_MS = 10_000;

/**
 * Claims an Idempotency-Key for one request. The first request inserts the claim (with the reservation id
 * it will use); a duplicate with the same body gets the stored response, or waits while the first is still
 * running; a different body is refused. A claim whose lease ran out is taken over with a FRESH reservation
 * id: the first attempt may only be stalled, not dead, so its id (and any hold placed under it) stays its
 * own. The reservation id is the attempt's fencing token: the key's answer is stored only by the attempt
 * whose id the key still names, and the event service releases only seats held under the releasing id, so
 * a superseded attempt's compensation can never free the retry's seats. A hold the stalled attempt leaves
 * behind is released by that attempt itself or by the pending-hold sweep.
 */
export async function claimIdempotencyKey(
  store: BookingStore,
  request: { userId: string; key: string; fingerprint: string },
  leaseMs: number,
): Promise<IdempotencyClaim> {
  const deadline = Date.now() + Math.min(MAX_WAIT_MS, leaseMs);
  for (;;) {
    const inserted = await store.idempotency.insertClaim({
      userId: request.userId,
      key: request.key,
      requestHash: request.fingerprint,
      reservationId: randomUUID(),
    });
    if (inserted) return { kind: 'claimed', reservationId: inserted.reservation_id };

    const decision = await store.transaction(async (tx): Promise<IdempotencyClaim | 'wait' | 'gone'> => {
      const existing = await tx.idempotency.lock(request.userId, request.key, leaseMs);
      if (!existing) return 'gone';
      if (existing.request_hash !== request.fingerprint) {
        throw unprocessable(
          'Idempotency-Key was already used with a different request body',
          { idempotency_key: request.key },
          'IDEMPOTENCY_KEY_REUSED',
        );
      }
      if (existing.response_status !== null) {
        return { kind: 'replay', status: existing.response_status, body: existing.response_body };
      }
      if (existing.leased) return 'wait';
      const attemptId = randomUUID();
      await tx.idempotency.renew(request.userId, request.key, attemptId);
      return { kind: 'claimed', reservationId: attemptId };
    });
    if (decision === 'gone') continue;
    if (decision !== 'wait') return decision;
    if (Date.now() >= deadline) {
      throw conflict('IDEMPOTENCY_KEY_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed', {
        idempotency_key: request.key,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
  }
}

/** What an attempt under an Idempotency-Key tells the key while it runs. */
export interface AttemptHooks {
  /** The attempt had to take a fresh reservation id (its first was already released by the sweep). */
  onReservationIdChanged(reservationId: string): Promise<void>;
  /** Stores the attempt's answer (`stored`: what a replay needs, as JSON) in the transaction that writes the reservation. */
  beforeCommit(tx: BookingRepositories, status: number, stored: unknown): Promise<void>;
}

/**
 * Runs `attempt` once per Idempotency-Key: a duplicate gets the stored answer back through `replay`, the
 * attempt that holds the key answers for it. This attempt's reservation id is its fencing token: every write to the key is
 * conditional on it, so an attempt a later retry took over can neither answer for the key nor end the
 * retry's lease.
 */
export async function withIdempotencyKey<R>(
  deps: { store: BookingStore; logger: Logger; leaseMs: number },
  request: { userId: string; key: string; fingerprint: string },
  attempt: (reservationId: string, hooks: AttemptHooks) => Promise<R>,
  replay: (status: number, stored: unknown) => R,
): Promise<R> {
  const { userId, key } = request;
  const claim = await claimIdempotencyKey(deps.store, request, deps.leaseMs);
  if (claim.kind === 'replay') return replay(claim.status, claim.body);
  let attemptId = claim.reservationId;
  try {
    return await attempt(claim.reservationId, {
      onReservationIdChanged: async (id) => {
        if (!(await deps.store.idempotency.renewAttempt(userId, key, attemptId, id))) throw attemptSuperseded(key);
        attemptId = id;
      },
      beforeCommit: async (tx, status, stored) => {
        if (!(await tx.idempotency.complete(userId, key, attemptId, status, stored))) throw attemptSuperseded(key);
      },
    });
  } catch (error) {
    await deps.store.idempotency.abandon(userId, key, attemptId).catch((abandonError: unknown) => {
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
