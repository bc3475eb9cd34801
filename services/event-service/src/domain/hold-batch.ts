import { AppError, errorBody, type SeatHoldOutcome } from '@ticketing/platform';
import { placeHold, type HoldAttempt, type HoldCommand, type HoldStore, type SeatInventoryStore } from './seat-inventory';

/**
 * Many reservations' holds in one transaction, in the given order: each is all-or-nothing and answered on its
 * own (what the single hold call would answer), so one's conflict changes nothing for another, and of two
 * asking for one seat the earlier gets it (the later sees the earlier's hold in the same transaction).
 * When the transaction itself fails (a lost connection, a lock wait past the batch's limit), nothing of it
 * is kept and every hold is placed again on its own, so no reservation fails for another's sake.
 */
export async function placeHolds(store: SeatInventoryStore, commands: HoldCommand[], now = new Date()): Promise<SeatHoldOutcome[]> {
  if (commands.length === 1) return [await settle(() => placeHold(store, commands[0], now))];
  try {
    return await store.holdTransaction(async (tx) => {
      const attempts = await holdAtOnce(tx, commands, now);
      const outcomes: SeatHoldOutcome[] = [];
      for (const [i, command] of commands.entries()) {
        // placeHold judges the attempt the batch statement already made for it (the same statement's rule).
        const view: HoldStore = attempts ? { ...tx, tryHold: async () => attempts[i] } : tx;
        const outcome = await settle(() => placeHold(view, command, now));
        // Anything but an answer (a database error) aborts the transaction: leave, and go one by one.
        if (outcome.status >= 500) throw new BatchAborted();
        outcomes.push(outcome);
      }
      return outcomes;
    });
  } catch {
    // In order, so the earlier of two wanting one seat still gets it.
    const outcomes: SeatHoldOutcome[] = [];
    for (const command of commands) outcomes.push(await settle(() => placeHold(store, command, now)));
    return outcomes;
  }
}

class BatchAborted extends Error {}

/**
 * Every hold of the batch in one statement when no seat is asked for twice (then no reservation's answer
 * depends on another's); otherwise undefined, and each is tried in order, the earlier seeing the earlier's hold.
 * Commands whose reserved_until has passed are left out: placeHold refuses them before trying.
 */
async function holdAtOnce(tx: HoldStore, commands: HoldCommand[], now: Date): Promise<Array<HoldAttempt | undefined> | undefined> {
  const seatIds = commands.flatMap((command) => [...new Set(command.seatIds)]);
  if (new Set(seatIds).size !== seatIds.length) return undefined;
  const live = commands.flatMap((command, i) => (command.reservedUntil.getTime() > now.getTime() ? [i] : []));
  const attempts = live.length ? await tx.tryHolds(live.map((i) => commands[i]), now) : [];
  const byCommand: Array<HoldAttempt | undefined> = commands.map(() => undefined);
  live.forEach((i, k) => (byCommand[i] = attempts[k]));
  return byCommand;
}

async function settle(work: () => ReturnType<typeof placeHold>): Promise<SeatHoldOutcome> {
  try {
    return { status: 200, hold: await work() };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return { status: error.status, error: errorBody(error).error };
    return { status: 500, error: { code: 'INTERNAL_ERROR', message: 'The hold failed' } };
  }
}
