import { conflict, serviceUnavailable, withSpan, withoutSpans } from '@ticketing/platform';
import { LockServiceError, SeatsLockedError, secondsSince, type BookingDeps, type LockResult } from './ports';

/**
 * Runs `work` under one Redlock lock over all the seats, taken without waiting: a contender gets 409
 * SEAT_LOCKED at once, an unreachable Redis 503. Reports the attempt's result and duration (and the seats of
 * a contended attempt), and how long the lock was held.
 */
export async function withSeatLock<T>(
  deps: Pick<BookingDeps, 'seatLocker' | 'settings' | 'metrics' | 'logger'>,
  seatIds: string[],
  work: () => Promise<T>,
): Promise<T> {
  const releaseLock = await lockSeats(deps, seatIds);
  const lockedAt = process.hrtime.bigint();
  try {
    return await work();
  } finally {
    // No span for the release's Redis command either: it is the tail of the step around it (a failed release
    // only logs: the lock expires on its own), and one span less per reservation (docs/observability.md, "Cost").
    await withoutSpans(releaseLock);
    deps.metrics.lockHeld(secondsSince(lockedAt));
  }
}

function lockSeats(deps: Pick<BookingDeps, 'seatLocker' | 'settings' | 'metrics' | 'logger'>, seatIds: string[]): Promise<() => Promise<void>> {
  const attributes = { 'ticketing.seat_count': seatIds.length };
  return withSpan('booking-service', 'seat_lock.acquire', { attributes }, async (span) => {
    const started = process.hrtime.bigint();
    const report = (result: LockResult) => {
      span?.setAttribute('ticketing.lock_result', result);
      deps.metrics.lockAcquisition(result, secondsSince(started), seatIds.length);
    };
    try {
      // The acquire's Redis command makes no span of its own: `seat_lock.acquire` is that one round trip, with
      // its result.
      const release = await withoutSpans(() => deps.seatLocker.lockSeats(seatIds, deps.settings.lockTtlMs));
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
