import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process, with Node's default metrics and a `service` label on every series. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Buckets from 1 ms to 5 s, fine enough to tell a 5 ms booking from a 50 ms one. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createHttpDurationHistogram(registry: Registry): Histogram<'method' | 'route' | 'status'> {
  return new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
}

/** Items per batch of a NaturalBatcher (1 when idle; grows with concurrent callers). */
export function createBatchSizeHistogram(registry: Registry, name: string, help: string): Histogram {
  return new Histogram({ name, help, buckets: [1, 2, 4, 8, 16, 32, 64, 128], registers: [registry] });
}
