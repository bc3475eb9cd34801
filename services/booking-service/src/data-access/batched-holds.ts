import { Histogram, type Registry } from 'prom-client';
import { MAX_HOLDS_PER_BATCH, createBatchSizeHistogram, NaturalBatcher, outcomeOf, withSpan, type ItemOutcome } from '@ticketing/platform';
import type { EventServiceClient, ReserveResult, SeatHoldRequest } from '../domain/event-service';

export interface HoldBatchingOptions {
  /** Most reservations per batch call (at most the contract's MAX_HOLDS_PER_BATCH). */
  maxBatchSize: number;
  /** Batch calls in flight at once; another starts only while fewer run. */
  maxInFlight: number;
  registry: Registry;
}

/**
 * The event service client with reserveSeats batched across concurrent requests (natural batching: a lone
 * hold goes out at once, on the single hold call as before; holds that arrive while batch calls are busy go
 * together in one call and one transaction). Every caller still gets its own answer or error, so placeHold
 * (compensation, error translation) is unchanged. One span per batch, linked to the requests' traces.
 */
export function withBatchedHolds(client: EventServiceClient, options: HoldBatchingOptions): EventServiceClient {
  const size = createBatchSizeHistogram(
    options.registry,
    'booking_hold_batch_size',
    'Reservations per hold call to the event service (1 when idle; grows with concurrent buyers)',
  );
  const wait = new Histogram({
    name: 'booking_hold_batch_wait_seconds',
    help: 'Time a hold waited for a batch slot before its call to the event service went out (0 when idle)',
    buckets: [0, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [options.registry],
  });
  const batcher = new NaturalBatcher<SeatHoldRequest, ReserveResult>({
    maxBatchSize: Math.min(options.maxBatchSize, MAX_HOLDS_PER_BATCH),
    maxInFlight: options.maxInFlight,
    run: (requests, info) => {
      size.observe(info.size);
      for (const seconds of info.waits) wait.observe(seconds);
      // A lone hold (the idle case) stays inside its request's trace, on the single hold call.
      if (requests.length === 1) return reserve(client, requests);
      const attributes = { 'ticketing.batch_size': info.size };
      return withSpan('booking-service', 'event_service.hold_batch', { attributes, links: info.links, root: true }, () => reserve(client, requests));
    },
  });
  return { ...client, reserveSeats: (request) => batcher.submit(request) };
}

async function reserve(client: EventServiceClient, requests: SeatHoldRequest[]): Promise<Array<ItemOutcome<ReserveResult>>> {
  if (requests.length > 1) return client.reserveSeatsBatch(requests);
  return [await outcomeOf(() => client.reserveSeats(requests[0]))];
}
