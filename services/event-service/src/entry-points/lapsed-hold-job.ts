import { startPeriodicJob, type Logger } from '@ticketing/platform';
import { Counter, type Registry } from 'prom-client';
import type { EventConfig } from '../config';
import { bookingReservationStatuses } from '../data-access/booking-service-client';
import { returnLapsedHolds, type LapsedHoldStore } from '../domain/lapsed-holds';
import type { SeatInventoryStore } from '../domain/seat-inventory';

/** Lapsed holds looked at per run, oldest first (a backlog is worked off over the following runs). */
const BATCH_SIZE = 200;

function lapsedHoldMetrics(registry: Registry) {
  const holds = new Counter({
    name: 'lapsed_holds_total',
    help:
      'Holds found reserved past reserved_until + LAPSED_HOLD_GRACE_SECONDS, by outcome: released (booking says ' +
      'expired/cancelled/refunded/unknown), sold (confirmed, its message not applied yet), kept (booking says live), ' +
      'unchecked (booking unreachable: nothing released)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const seats = new Counter({
    name: 'lapsed_hold_seats_total',
    help: 'Seats of lapsed holds returned to sale (released) or sold',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['released', 'sold', 'kept', 'unchecked']) holds.inc({ outcome }, 0);
  for (const outcome of ['released', 'sold']) seats.inc({ outcome }, 0);
  return { holds, seats };
}

/**
 * The consumer's periodic lapsed-hold check (every LAPSED_HOLD_CHECK_INTERVAL_SECONDS; 0 turns it off).
 * Never overlaps itself; a failure is logged and tried again next time. `runNow` runs one check (tests).
 */
export function scheduleLapsedHoldCheck(deps: {
  inventory: SeatInventoryStore & LapsedHoldStore;
  config: Pick<EventConfig, 'BOOKING_SERVICE_URL' | 'INTERNAL_API_TOKEN' | 'LAPSED_HOLD_GRACE_SECONDS' | 'LAPSED_HOLD_CHECK_INTERVAL_SECONDS'>;
  logger: Logger;
  registry: Registry;
}) {
  const metrics = lapsedHoldMetrics(deps.registry);
  const askBooking = bookingReservationStatuses({ baseUrl: deps.config.BOOKING_SERVICE_URL, internalToken: deps.config.INTERNAL_API_TOKEN });
  return startPeriodicJob({
    name: 'Lapsed hold check',
    intervalMs: deps.config.LAPSED_HOLD_CHECK_INTERVAL_SECONDS * 1000,
    logger: deps.logger,
    run: async () => {
      const report = await returnLapsedHolds(
        { inventory: deps.inventory, askBooking, logger: deps.logger },
        { graceSeconds: deps.config.LAPSED_HOLD_GRACE_SECONDS, batchSize: BATCH_SIZE },
      );
      for (const outcome of ['released', 'sold', 'kept', 'unchecked'] as const) metrics.holds.inc({ outcome }, report[outcome]);
      metrics.seats.inc({ outcome: 'released' }, report.seatsReleased);
      metrics.seats.inc({ outcome: 'sold' }, report.seatsSold);
      if (report.found) deps.logger.info(report, 'Lapsed hold check finished');
    },
  });
}
