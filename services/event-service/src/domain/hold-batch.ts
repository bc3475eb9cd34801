import { AppError, errorBody, type SeatHoldOutcome } from '@ticketing/platform';
import { placeHold, type HoldCommand, type SeatInventoryStore } from './seat-inventory';

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
      const outcomes: SeatHoldOutcome[] = [];
      for (const command of commands) {
        const outcome = await settle(() => placeHold(tx, command, now));
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

async function settle(work: () => ReturnType<typeof placeHold>): Promise<SeatHoldOutcome> {
  try {
    return { status: 200, hold: await work() };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return { status: error.status, error: errorBody(error).error };
    return { status: 500, error: { code: 'INTERNAL_ERROR', message: 'The hold failed' } };
  }
}
