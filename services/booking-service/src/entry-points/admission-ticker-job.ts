import { randomUUID } from 'node:crypto';
import { startPeriodicJob, type Logger } from '@ticketing/platform';
import type { WaitingRoomStore } from '../domain/waiting-room-ports';
import type { AdmissionTicker, WaitingRoomMetrics } from '../domain/admission-tick';

export interface AdmissionTickerJob {
  /** Whether this process held the ticker lease at its last attempt. */
  isLeading(): boolean;
  stop(): Promise<void>;
}

/**
 * Runs the waiting-room ticker in every booking API process, but only the holder of a Redis lease (SET NX PX,
 * renewed each tick) ticks: one ticker across replicas. A leader that dies stops renewing and another process
 * takes over within the lease. The admit script also refuses a pass begun on a stale tick, so two tickers
 * overlapping for a moment cannot admit twice.
 */
export function startAdmissionTickerJob(options: {
  store: WaitingRoomStore;
  ticker: AdmissionTicker;
  metrics: WaitingRoomMetrics;
  logger: Logger;
  intervalMs: number;
}): AdmissionTickerJob {
  const { store, ticker, metrics, logger, intervalMs } = options;
  const instanceId = randomUUID();
  const leaseMs = Math.max(2_000, intervalMs * 8);
  let leading = false;

  const pass = async () => {
    const wasLeading = leading;
    leading = await store.lead(instanceId, leaseMs);
    if (leading !== wasLeading) logger.info({ instance: instanceId, leading }, leading ? 'Admission ticker leading' : 'Admission ticker standing by');
    if (leading) await ticker.tick();
    else metrics.queueLength(0);
  };

  const job = startPeriodicJob({ name: 'Admission ticker pass', intervalMs, logger, run: pass });

  return {
    isLeading: () => leading,
    async stop() {
      await job.stop();
      if (leading) await store.resign(instanceId).catch(() => undefined);
      leading = false;
    },
  };
}
