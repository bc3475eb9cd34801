import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WaitingRoomMetrics } from '../domain/admission-tick';

/** Waits run from seconds to an hour or more in a big on-sale. */
const WAIT_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200];

/**
 * The waiting room's series. Only the process holding the ticker lease admits, so the counters and the wait
 * histogram grow there and sum correctly across pods; the others report a queue length of 0.
 */
export function createWaitingRoomMetrics(registry: Registry): WaitingRoomMetrics {
  const queueLength = new Gauge({
    name: 'booking_waiting_room_queue_length',
    help: 'Buyers waiting in every waiting room (joined, not yet admitted), as of the last admission tick',
    registers: [registry],
  });
  const admitted = new Counter({
    name: 'booking_waiting_room_admitted_total',
    help: 'Buyers admitted from a waiting room to the seat map (rate() = admitted per second)',
    registers: [registry],
  });
  const waited = new Histogram({
    name: 'booking_waiting_room_wait_seconds',
    help: 'Time from joining (or from the opening, for early joiners) to admission',
    buckets: WAIT_BUCKETS,
    registers: [registry],
  });
  const abandoned = new Counter({
    name: 'booking_waiting_room_abandoned_total',
    help: 'Admitted buyers who held no seats within the hold window (their slot went to the next one)',
    registers: [registry],
  });
  const soldOut = new Counter({
    name: 'booking_waiting_room_sold_out_notified_total',
    help: 'Buyers still waiting when their session sold out (all told SOLD_OUT at once)',
    registers: [registry],
  });
  return {
    admitted: (count) => admitted.inc(count),
    waited: (seconds) => waited.observe(seconds),
    abandoned: (count) => abandoned.inc(count),
    queueLength: (count) => queueLength.set(count),
    soldOutNotified: (count) => soldOut.inc(count),
  };
}
