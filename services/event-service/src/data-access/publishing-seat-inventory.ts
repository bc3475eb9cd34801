/**
 * The seat inventory's storage, announcing every committed seat change to a SeatChangeFeed (the live seat map).
 * It wraps the repository instead of touching the use cases: whatever path writes (hold, release, sale, the
 * consumer's batches, the lapsed-hold check), the changes are collected while the transaction runs and published
 * only once it committed; a rolled-back transaction publishes nothing. Nothing is added to the write itself.
 *
 * The state published is derived from the write, not read back: a hold makes a seat `reserved` until the hold's
 * `reserved_until`; a release or refund makes it `available`; a sale makes it `sold` (reserved_until null). A
 * transactional write whose row count differs from the seats it was given (never, while the seats are locked)
 * publishes nothing for that call rather than guess.
 */
import type { BookingEventStore, BookingEventTransaction } from '../domain/booking-events';
import type { SeatChangeFeed, SeatStateChange } from '../domain/seat-changes';
import type {
  HoldAttempt,
  HoldCommand,
  HoldStore,
  SeatInventoryStore,
  SeatInventoryTransaction,
  SeatStatus,
} from '../domain/seat-inventory';

/** Changes collected during one transaction, per session, published after its commit. */
class PendingChanges {
  private readonly bySession = new Map<string, Map<string, SeatStateChange>>();

  add(sessionId: string, seatIds: string[], status: SeatStatus, reservedUntil: Date | null = null) {
    let seats = this.bySession.get(sessionId);
    if (!seats) this.bySession.set(sessionId, (seats = new Map()));
    const until = status === 'reserved' && reservedUntil ? reservedUntil.toISOString() : null;
    // The last change of a seat within the transaction is its committed state.
    for (const id of seatIds) seats.set(id, { session_seat_id: id, status, reserved_until: until });
  }

  publishTo(feed: SeatChangeFeed) {
    for (const [sessionId, seats] of this.bySession) feed.publish(sessionId, [...seats.values()]);
  }
}

function recordingTransaction(tx: SeatInventoryTransaction, pending: PendingChanges): SeatInventoryTransaction {
  return {
    ...tx,
    async sell(sessionId, seatIds, reservationId, includeUnheld) {
      const changed = await tx.sell(sessionId, seatIds, reservationId, includeUnheld);
      if (changed === seatIds.length) pending.add(sessionId, seatIds, 'sold');
      return changed;
    },
    async free(sessionId, seatIds, reservationId, from) {
      const changed = await tx.free(sessionId, seatIds, reservationId, from);
      if (changed === seatIds.length) pending.add(sessionId, seatIds, 'available');
      return changed;
    },
  };
}

function recordingEventTransaction(tx: BookingEventTransaction, pending: PendingChanges): BookingEventTransaction {
  const sessionOfSeat = new Map<string, string>();
  return {
    ...tx,
    async recordMessagesAndLockSeats(messages) {
      const locked = await tx.recordMessagesAndLockSeats(messages);
      for (const seat of locked.seats) sessionOfSeat.set(seat.id, seat.session_id);
      return locked;
    },
    async writeSeatChanges(changes, refunds) {
      const written = await tx.writeSeatChanges(changes, refunds);
      if (written === changes.length) {
        for (const change of changes) {
          const sessionId = sessionOfSeat.get(change.id);
          if (sessionId) pending.add(sessionId, [change.id], change.to.status);
        }
      }
      return written;
    },
  };
}

async function recordHold(
  attempting: Promise<HoldAttempt | undefined>,
  command: HoldCommand,
  pending: PendingChanges,
): Promise<HoldAttempt | undefined> {
  const attempt = await attempting;
  for (const seat of attempt?.seats ?? []) {
    if (seat.held) pending.add(command.sessionId, [seat.id], 'reserved', seat.reserved_until ?? command.reservedUntil);
  }
  return attempt;
}

async function recordHolds(
  attempting: Promise<Array<HoldAttempt | undefined>>,
  commands: HoldCommand[],
  pending: PendingChanges,
): Promise<Array<HoldAttempt | undefined>> {
  const attempts = await attempting;
  await Promise.all(attempts.map((attempt, i) => recordHold(Promise.resolve(attempt), commands[i], pending)));
  return attempts;
}

function recordingHoldStore(store: HoldStore, pending: PendingChanges): HoldStore {
  return {
    ...store,
    tryHold: (command, now) => recordHold(store.tryHold(command, now), command, pending),
    tryHolds: (commands, now) => recordHolds(store.tryHolds(commands, now), commands, pending),
    transaction: (work) => store.transaction((tx) => work(recordingTransaction(tx, pending))),
  };
}

/** `store` with every committed seat change also published to `feed`. */
export function publishingSeatInventory<S extends SeatInventoryStore & BookingEventStore>(store: S, feed: SeatChangeFeed): S {
  return {
    ...store,
    async tryHold(command, now) {
      const pending = new PendingChanges();
      const attempt = await recordHold(store.tryHold(command, now), command, pending);
      pending.publishTo(feed);
      return attempt;
    },
    async tryHolds(commands, now) {
      const pending = new PendingChanges();
      const attempts = await recordHolds(store.tryHolds(commands, now), commands, pending);
      pending.publishTo(feed);
      return attempts;
    },
    async holdTransaction(work) {
      // A batch of holds commits together: its changes go out once, after the commit, or never.
      const pending = new PendingChanges();
      const result = await store.holdTransaction((inner) => work(recordingHoldStore(inner, pending)));
      pending.publishTo(feed);
      return result;
    },
    async transaction(work) {
      const pending = new PendingChanges();
      const result = await store.transaction((tx) => work(recordingTransaction(tx, pending)));
      pending.publishTo(feed);
      return result;
    },
    async transactionForEvents(work) {
      const pending = new PendingChanges();
      const result = await store.transactionForEvents((tx) => work(recordingEventTransaction(tx, pending)));
      pending.publishTo(feed);
      return result;
    },
  };
}
