import { AppError, errorBody, type SeatHoldOutcome } from '@ticketing/platform';
import { placeHold, type HoldAttempt, type HoldCommand, type HoldStore, type SeatInventoryStore } from './seat-inventory';

/**
 * Many reservations' holds, in the given order: each is all-or-nothing and answered on its own (what the
 * single hold call would answer), so one's conflict changes nothing for another, and of two asking for one
 * seat the earlier gets it.
 * - No seat asked for twice (the usual batch): one statement holds them all, in its own transaction like the
 *   single call's (no BEGIN/COMMIT round trips; it locks every seat of the batch in id order, so two such
 *   statements never wait on each other in a cycle). If it fails, nothing of it was applied: each hold is
 *   placed again on its own, in order.
 * - A seat asked for twice: one transaction, each reservation in order, the later seeing the earlier's hold.
 *   When that transaction fails (a lost connection, a lock wait past the batch's limit), nothing of it is kept
 *   and every hold is placed again on its own.
 */
export async function placeHolds(store: SeatInventoryStore, commands: HoldCommand[], now = new Date()): Promise<SeatHoldOutcome[]> {
  if (commands.length === 1) return [await settle(() => placeHold(store, commands[0], now))];
  if (asksEachSeatOnce(commands)) {
    const attempts = await holdAtOnce(store, commands, now).catch(() => undefined);
    if (attempts) return judgeEach(store, commands, attempts, now);
    return oneByOne(store, commands, now);
  }
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
    return oneByOne(store, commands, now);
  }
}

class BatchAborted extends Error {}

/** In order, so the earlier of two wanting one seat still gets it. */
async function oneByOne(store: SeatInventoryStore, commands: HoldCommand[], now: Date): Promise<SeatHoldOutcome[]> {
  const outcomes: SeatHoldOutcome[] = [];
  for (const command of commands) outcomes.push(await settle(() => placeHold(store, command, now)));
  return outcomes;
}

function asksEachSeatOnce(commands: HoldCommand[]): boolean {
  const seatIds = commands.flatMap((command) => [...new Set(command.seatIds)]);
  return new Set(seatIds).size === seatIds.length;
}

/**
 * Every hold of the batch in one statement. Commands whose reserved_until has passed are left out: placeHold
 * refuses them before trying.
 */
async function holdAtOnce(store: HoldStore, commands: HoldCommand[], now: Date): Promise<Array<HoldAttempt | undefined>> {
  const live = commands.flatMap((command, i) => (command.reservedUntil.getTime() > now.getTime() ? [i] : []));
  const attempts = live.length ? await store.tryHolds(live.map((i) => commands[i]), now) : [];
  const byCommand: Array<HoldAttempt | undefined> = commands.map(() => undefined);
  live.forEach((i, k) => (byCommand[i] = attempts[k]));
  return byCommand;
}

/** placeHold judges, for each command, the attempt the batch statement already made for it (the same rule). */
async function judgeEach(
  store: HoldStore,
  commands: HoldCommand[],
  attempts: Array<HoldAttempt | undefined>,
  now: Date,
): Promise<SeatHoldOutcome[]> {
  const outcomes: SeatHoldOutcome[] = [];
  for (const [i, command] of commands.entries()) {
    const view: HoldStore = { ...store, tryHold: async () => attempts[i] };
    outcomes.push(await settle(() => placeHold(view, command, now)));
  }
  return outcomes;
}

async function settle(work: () => ReturnType<typeof placeHold>): Promise<SeatHoldOutcome> {
  try {
    return { status: 200, hold: await work() };
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return { status: error.status, error: errorBody(error).error };
    return { status: 500, error: { code: 'INTERNAL_ERROR', message: 'The hold failed' } };
  }
}
