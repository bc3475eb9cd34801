import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, ROUTING_KEYS, type Logger } from '@ticketing/platform';
import type { OutboxBacklog } from '../domain/store';
import type {
  BookingMetrics,
  CheckInOutcome,
  CheckInSource,
  ConfirmOutcome,
  ExpiryReason,
  LockResult,
  PaymentOperation,
  PaymentOperationResult,
  PublishOutcome,
  ReservationOutcome,
  SettledState,
} from '../domain/ports';

const RESERVATION_OUTCOMES: ReservationOutcome[] = ['created', 'conflict', 'rejected', 'error'];
const CONFIRM_OUTCOMES: ConfirmOutcome[] = ['confirmed', 'replayed', 'declined', 'conflict', 'rejected', 'error'];
const LOCK_RESULTS: LockResult[] = ['acquired', 'contended', 'error'];
const SETTLED_STATES: SettledState[] = ['confirmed', 'expired', 'cancelled'];
const EXPIRY_REASONS: ExpiryReason[] = ['expired', 'abandoned'];
const PUBLISH_OUTCOMES: PublishOutcome[] = ['published', 'failed'];
const PAYMENT_OPERATIONS: PaymentOperation[] = ['authorize', 'capture', 'void', 'refund'];
const PAYMENT_RESULTS: PaymentOperationResult[] = ['ok', 'declined', 'failed'];
const CHECK_IN_OUTCOMES: CheckInOutcome[] = ['admitted', 'already_used', 'revoked', 'wrong_session', 'invalid_code'];
const CHECK_IN_SOURCES: CheckInSource[] = ['online', 'offline'];

/** Lock acquire is one Redis round trip: buckets from 0.1 ms. */
const LOCK_ACQUIRE_BUCKETS = [0.0001, 0.00025, 0.0005, ...LATENCY_BUCKETS];

/**
 * The booking service's Prometheus series. Every label combination is created at zero when the process
 * starts, so `rate()`/`increase()` see the first event too and dashboards show 0 rather than "no data".
 * The outbox gauges are read from the database at scrape time.
 */
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
    help: 'POST /reservations/{id}/confirm duration by outcome (confirmed, replayed, declined, conflict, rejected, error)',
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
  const lockAcquireDuration = new Histogram({
    name: 'booking_lock_acquire_duration_seconds',
    help: 'Time to take (or fail to take) the Redlock lock over the requested seats, by result',
    labelNames: ['result'],
    buckets: LOCK_ACQUIRE_BUCKETS,
    registers: [registry],
  });
  const lockHeld = new Histogram({
    name: 'booking_lock_held_seconds',
    help: 'Time a seat lock was held, from acquired to released (the hold at the event service and the reservation write)',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const contendedSeats = new Counter({
    name: 'booking_lock_contended_seats_total',
    help: 'Seats requested by lock attempts that found at least one of them locked by another buyer',
    registers: [registry],
  });
  const settled = new Counter({
    name: 'booking_reservations_settled_total',
    help: 'Reservations that left the active state, by the state they ended in (confirmed, expired, cancelled)',
    labelNames: ['state'],
    registers: [registry],
  });
  const ticketsIssued = new Counter({
    name: 'booking_tickets_issued_total',
    help: 'Tickets issued by confirms',
    registers: [registry],
  });
  const ticketsRefunded = new Counter({
    name: 'booking_tickets_refunded_total',
    help: 'Tickets refunded',
    registers: [registry],
  });
  const expiryReleased = new Counter({
    name: 'booking_expiry_released_holds_total',
    help:
      'Holds released by the expiry sweep of this process, by reason (expired: the reservation passed its expiry time; ' +
      'abandoned: the request that placed the hold died before writing its reservation)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const published = new Counter({
    name: 'messages_published_total',
    help: 'Outbox messages published to RabbitMQ by routing key and outcome (published, failed)',
    labelNames: ['routing_key', 'outcome'],
    registers: [registry],
  });
  const paymentOperations = new Counter({
    name: 'booking_payment_operations_total',
    help: 'Payment-provider calls by operation (authorize, capture, void, refund) and result (ok, declined, failed)',
    labelNames: ['operation', 'result'],
    registers: [registry],
  });
  const checkIns = new Counter({
    name: 'booking_check_ins_total',
    help:
      'Door scans by result (admitted, already_used, revoked, wrong_session, invalid_code) and source (online: POST /check-ins; ' +
      'offline: uploaded by POST /check-ins/batch)',
    labelNames: ['result', 'source'],
    registers: [registry],
  });
  const checkInDuration = new Histogram({
    name: 'booking_check_in_duration_seconds',
    help: 'Time to decide one door scan (verify the code, admit or refuse), by result',
    labelNames: ['result'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  for (const outcome of RESERVATION_OUTCOMES) reservationDuration.zero({ outcome });
  for (const outcome of CONFIRM_OUTCOMES) confirmDuration.zero({ outcome });
  for (const result of LOCK_RESULTS) {
    lockAcquisitions.inc({ result }, 0);
    lockAcquireDuration.zero({ result });
  }
  contendedSeats.inc(0);
  for (const state of SETTLED_STATES) settled.inc({ state }, 0);
  ticketsIssued.inc(0);
  ticketsRefunded.inc(0);
  for (const reason of EXPIRY_REASONS) expiryReleased.inc({ reason }, 0);
  for (const routingKey of ROUTING_KEYS) for (const outcome of PUBLISH_OUTCOMES) published.inc({ routing_key: routingKey, outcome }, 0);
  for (const operation of PAYMENT_OPERATIONS) {
    for (const result of PAYMENT_RESULTS) {
      if (result !== 'declined' || operation === 'authorize') paymentOperations.inc({ operation, result }, 0);
    }
  }

  for (const result of CHECK_IN_OUTCOMES) {
    checkInDuration.zero({ result });
    for (const source of CHECK_IN_SOURCES) checkIns.inc({ result, source }, 0);
  }

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
    lockAcquisition: (result, seconds, seats) => {
      lockAcquisitions.inc({ result });
      lockAcquireDuration.observe({ result }, seconds);
      if (result === 'contended') contendedSeats.inc(seats);
    },
    lockHeld: (seconds) => lockHeld.observe(seconds),
    reservationsSettled: (state, count) => {
      if (count > 0) settled.inc({ state }, count);
    },
    ticketsIssued: (count) => {
      if (count > 0) ticketsIssued.inc(count);
    },
    ticketsRefunded: (count) => {
      if (count > 0) ticketsRefunded.inc(count);
    },
    holdsReleasedByExpiry: (reason, count) => {
      if (count > 0) expiryReleased.inc({ reason }, count);
    },
    messagePublished: (routingKey, outcome) => published.inc({ routing_key: routingKey, outcome }),
    paymentOperation: (operation, result) => paymentOperations.inc({ operation, result }),
    checkIn: (result, source, seconds) => {
      checkIns.inc({ result, source });
      checkInDuration.observe({ result }, seconds);
    },
  };
}

/**
 * 1 while the booking API holds a live RabbitMQ connection, 0 otherwise. The broker is not part of readiness
 * (the outbox keeps confirms working without it), so this gauge is where its outage shows.
 */
export function registerBrokerGauge(registry: Registry, isConnected: () => boolean): void {
  new Gauge({
    name: 'booking_broker_connected',
    help: '1 while the booking API is connected to RabbitMQ (outbox events publish), 0 while they wait in the outbox',
    registers: [registry],
    collect() {
      this.set(isConnected() ? 1 : 0);
    },
  });
}
