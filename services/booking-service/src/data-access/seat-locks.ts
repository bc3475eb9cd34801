import type { Redis } from 'ioredis';
import Redlock, { ExecutionError, ResourceLockedError, type Lock } from 'redlock';
import { LockServiceError, SeatsLockedError, type SeatLocker } from '../domain/ports';


export const seatLockResource = (sessionSeatId: string) => `locks:session-seat:${sessionSeatId}`;

/**
 * Redlock over one Redis. The lock only makes contenders fail fast; the event service's conditional
 * updates in Postgres are what guarantee a seat is never held twice.
 */
export function createSeatLocker(redis: Redis, onError?: (error: unknown) => void): SeatLocker {
  const redlock = new Redlock([redis], { retryCount: 0, driftFactor: 0.01, retryDelay: 0, retryJitter: 0 });
  redlock.on('error', (error) => {
    if (!(error instanceof ResourceLockedError)) onError?.(error);
  });
  return {
    async lockSeats(sessionSeatIds, ttlMs) {
      // Sorted, so two overlapping requests contend on the same first key rather than deadlock-dancing.
      const resources = [...new Set(sessionSeatIds)].sort().map(seatLockResource);
      let lock: Lock;
      try {
        lock = await redlock.acquire(resources, ttlMs);
      } catch (error) {
        if (await isContention(error)) throw new SeatsLockedError();
        throw new LockServiceError(`Could not take seat locks: ${(error as Error).message}`);
      }
      return async () => {
        try {
          await lock.release();
        } catch (error) {
          // The lock expires on its own after ttlMs; a failed release only delays the next buyer a little.
          onError?.(error);
        }
      };
    },
  };
}

async function isContention(error: unknown): Promise<boolean> {
  if (error instanceof ResourceLockedError) return true;
  if (!(error instanceof ExecutionError)) return false;
  for (const attempt of error.attempts) {
    const stats = await attempt;
    for (const reason of stats.votesAgainst.values()) if (reason instanceof ResourceLockedError) return true;
  }
  return false;
}
