import type { Logger } from '@ticketing/platform';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventConfig } from '../config';
import { openSeatChangeStream } from '../data-access/seat-change-stream';
import type { LiveSeatMapObserver } from '../domain/live-seat-map';

/** The process's seat-change stream (API and consumer), its publish failures counted. */
export function openCountedSeatChangeStream(config: EventConfig, logger: Logger, registry: Registry) {
  const publishFailures = seatChangePublishFailures(registry);
  return openSeatChangeStream({
    url: config.REDIS_URL,
    keyPrefix: config.SEAT_MAP_STREAM_KEY_PREFIX,
    retained: config.SEAT_MAP_STREAM_RETAINED_CHANGES,
    logger,
    onPublishFailure: () => publishFailures.inc(),
  });
}

/** Publications of seat changes Redis did not take. */
function seatChangePublishFailures(registry: Registry): Counter {
  return new Counter({
    name: 'seat_map_stream_publish_failures_total',
    help: 'Committed seat changes not appended to the live seat-map stream (Redis down or slow): live maps miss them until the seat changes again or the page resyncs',
    registers: [registry],
  });
}

/** The live seat map's metrics; `subscribers` is read at scrape time. */
export function liveSeatMapMetrics(registry: Registry, subscribers: () => number, logger: Logger): LiveSeatMapObserver {
  new Gauge({
    name: 'seat_map_stream_subscribers',
    help: 'Live seat-map (SSE) subscribers connected to this replica',
    registers: [registry],
    collect() {
      this.set(subscribers());
    },
  });
  const sent = new Counter({
    name: 'seat_map_stream_events_sent_total',
    help: 'Live seat-map events written to subscribers, by kind (snapshot, seats)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'seat_map_stream_dropped_clients_total',
    help: 'Live seat-map subscribers disconnected by the server, by reason (slow: unread bytes beyond SEAT_MAP_STREAM_BUFFER_BYTES)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const lag = new Histogram({
    name: 'seat_map_stream_lag_seconds',
    help: 'From a seat change being published (after its commit) to this replica writing it to its subscribers',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  for (const kind of ['snapshot', 'seats']) sent.inc({ kind }, 0);
  dropped.inc({ reason: 'slow' }, 0);
  let lastWarning = 0;
  return {
    sent: (kind, count) => sent.inc({ kind }, count),
    lag: (seconds) => lag.observe(seconds),
    dropped: (reason) => dropped.inc({ reason }),
    readFailed(error) {
      if (Date.now() - lastWarning < 30_000) return;
      lastWarning = Date.now();
      logger.warn({ err: error }, 'Reading seat changes from Redis failed; live seat maps wait for it');
    },
  };
}
