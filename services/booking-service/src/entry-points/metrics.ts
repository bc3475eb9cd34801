import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, type Logger } from '@ticketing/platform';
import type { OutboxBacklog } from '../data-access/outbox-repository';
import type { BookingMetrics } from '../domain/ports';

/** The booking service's Prometheus series; the outbox gauges are read from the database at scrape time. */
export function createBookingMetrics(registry: Registry, backlog: () => Promise<OutboxBacklog>, logger: Logger): BookingMetrics {
  const reservationDuration = new Histogram({
    name: 'booking_reservation_duration_seconds',
    help: 'POST /reservations duration by outcome (created, conflict, rejected, error)',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const confirmDuration = new Histogram({
    name: 'booking_confirm_duration_seconds',
    help: 'POST /reservations/{id}/confirm duration by outcome',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const lockAcquisitions = new Counter({
    name: 'booking_lock_acquisitions_total',
    help: 'Redlock seat lock attempts by result (acquired, contended, error)',
    labelNames: ['result'],
    registers: [registry],
  });
  const published = new Counter({
    name: 'messages_published_total',
    help: 'Outbox messages published to RabbitMQ by routing key and outcome',
    labelNames: ['routing_key', 'outcome'],
    registers: [registry],
  });

  // One query serves both gauges within a scrape.
  let pending: Promise<OutboxBacklog> | undefined;
  const readBacklog = () => {
    pending ??= backlog().finally(() => setTimeout(() => (pending = undefined), 100).unref());
    return pending;
  };
  new Gauge({
    name: 'outbox_backlog_rows',
    help: 'Outbox rows not yet published',
    registers: [registry],
    async collect() {
      try {
        this.set((await readBacklog()).rows);
      } catch (error) {
        logger.warn({ err: error }, 'Could not read the outbox backlog');
      }
    },
  });
  new Gauge({
    name: 'outbox_oldest_age_seconds',
    help: 'Age of the oldest unpublished outbox row (0 when empty)',
    registers: [registry],
    async collect() {
      try {
        this.set((await readBacklog()).oldestAgeSeconds);
      } catch (error) {
        logger.warn({ err: error }, 'Could not read the outbox backlog');
      }
    },
  });

  return {
    reservationDuration: (outcome, seconds) => reservationDuration.observe({ outcome }, seconds),
    confirmDuration: (outcome, seconds) => confirmDuration.observe({ outcome }, seconds),
    lockAcquisition: (result) => lockAcquisitions.inc({ result }),
    messagePublished: (routingKey, outcome) => published.inc({ routing_key: routingKey, outcome }),
  };
}
