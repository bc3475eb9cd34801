/**
 * Committed seat changes as the live seat map carries them. Every writer of the seat inventory (the internal API's
 * hold, release and sale, the consumer's batches, the lapsed-hold check) announces what it changed AFTER its
 * transaction committed, through a SeatChangeFeed; the feed never takes part in the write (no lock, no row).
 */
import type { SeatStatus } from './seat-inventory';

/** One seat's full state after a change: replaying it twice, or after a snapshot that has it, is harmless. */
export interface SeatStateChange {
  session_seat_id: string;
  status: SeatStatus;
  /** Set while the seat is reserved; null otherwise. */
  reserved_until: string | null;
}

export interface SeatChangeFeed {
  /** Announces one committed write's changes of one session; never throws, never waits for the write path. */
  publish(sessionId: string, changes: SeatStateChange[]): void;
}

export const noSeatChangeFeed: SeatChangeFeed = { publish: () => undefined };
