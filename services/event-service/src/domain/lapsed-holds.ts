/**
 * Self-healing holds: seats still `reserved` long after their `reserved_until` (plus a grace period) are
 * returned to sale by the event service itself, because booking's release (a call, or a reservation.expired /
 * cancelled message) may never come. Booking is the authority on a reservation's fate, so nothing is decided
 * here without asking it first:
 * - expired, cancelled, refunded, or unknown to booking (never written, or its hold was abandoned): release the
 *   seats the reservation still holds (the seat inventory's release rule: never a sold seat, never another
 *   reservation's);
 * - confirmed: sell them, exactly as the delayed reservation.confirmed will (the inventory's sale rule, which
 *   frees seats refunded meanwhile instead); when that message arrives it changes nothing. Never released;
 * - active or pending (booking still considers the hold live): keep;
 * - booking unreachable or answering nonsense: release nothing (the safe side) and try again next time.
 */
import type { Logger } from '@ticketing/platform';
import { releaseHold, sellHold, type SeatInventoryStore } from './seat-inventory';

export type ReservationFate = 'active' | 'confirmed' | 'expired' | 'cancelled' | 'refunded' | 'pending' | 'unknown';

export interface LapsedHold {
  session_id: string;
  reservation_id: string;
  session_seat_ids: string[];
}

export interface LapsedHoldStore {
  /** Holds (one per reservation and session) whose reserved_until is more than `graceSeconds` ago, oldest first. */
  findLapsedHolds(graceSeconds: number, limit: number): Promise<LapsedHold[]>;
}

/** Booking's answer per reservation id; rejects when booking cannot be asked. */
export type AskBooking = (reservationIds: string[]) => Promise<Map<string, ReservationFate>>;

export type LapsedHoldAction = 'release' | 'sell' | 'keep';

/** The rule: what to do with a lapsed hold, given what booking says became of its reservation. */
export function lapsedHoldAction(fate: ReservationFate | undefined): LapsedHoldAction {
  switch (fate) {
    case 'expired':
    case 'cancelled':
    case 'refunded':
    case 'unknown':
      return 'release';
    case 'confirmed':
      return 'sell';
    default:
      return 'keep'; // active, pending, or no answer for this id
  }
}

export interface LapsedHoldReport {
  /** Lapsed holds found (reservations). */
  found: number;
  released: number;
  sold: number;
  kept: number;
  /** Found but not decided because booking could not be asked. */
  unchecked: number;
  seatsReleased: number;
  seatsSold: number;
}

export async function returnLapsedHolds(
  deps: { inventory: SeatInventoryStore & LapsedHoldStore; askBooking: AskBooking; logger: Logger },
  settings: { graceSeconds: number; batchSize: number },
): Promise<LapsedHoldReport> {
  const report: LapsedHoldReport = { found: 0, released: 0, sold: 0, kept: 0, unchecked: 0, seatsReleased: 0, seatsSold: 0 };
  const holds = await deps.inventory.findLapsedHolds(settings.graceSeconds, settings.batchSize);
  report.found = holds.length;
  if (!holds.length) return report;

  let fates: Map<string, ReservationFate>;
  try {
    fates = await deps.askBooking([...new Set(holds.map((hold) => hold.reservation_id))]);
  } catch (error) {
    report.unchecked = holds.length;
    deps.logger.warn({ err: error, lapsed_holds: holds.length }, 'Booking service not reachable; lapsed holds kept until it answers');
    return report;
  }

  for (const hold of holds) {
    const fate = fates.get(hold.reservation_id);
    const command = { sessionId: hold.session_id, reservationId: hold.reservation_id, seatIds: hold.session_seat_ids };
    const action = lapsedHoldAction(fate);
    if (action === 'release') {
      const { released } = await releaseHold(deps.inventory, command);
      report.released += 1;
      report.seatsReleased += released.length;
      deps.logger.warn({ ...holdFields(hold), fate, seats: released.length }, 'Returned the seats of a lapsed hold to sale');
    } else if (action === 'sell') {
      const { sold } = await sellHold(deps.inventory, command);
      report.sold += 1;
      report.seatsSold += sold.length;
      deps.logger.warn({ ...holdFields(hold), fate, seats: sold.length }, 'Sold the seats of a confirmed reservation whose message has not arrived');
    } else {
      report.kept += 1;
      deps.logger.info({ ...holdFields(hold), fate: fate ?? 'no answer' }, 'Kept a lapsed hold that booking still considers live');
    }
  }
  return report;
}

const holdFields = (hold: LapsedHold) => ({
  reservation_id: hold.reservation_id,
  session_id: hold.session_id,
  session_seat_ids: hold.session_seat_ids,
});
