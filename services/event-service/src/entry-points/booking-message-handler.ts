import { isTransientDatabaseError, withSpan, type Logger, type TicketingEvent } from '@ticketing/platform';
import { applyBookingEvents, type BookingEventStore } from '../domain/booking-events';

/** The one value every element has, or 'mixed' (a span attribute for a whole batch). */
const sameOrMixed = (values: string[]): string => (values.every((value) => value === values[0]) ? values[0] : 'mixed');

/**
 * The batch handler given to the platform's consumer: applies the events through the seat inventory in one
 * transaction, waiting out short database outages in place (up to `transientBudgetMs`) so they do not use up
 * the bounded attempts.
 */
export function bookingMessageHandler(deps: {
  inventory: BookingEventStore;
  logger: Logger;
  /** Marks events that turned out to be duplicates, so the metrics can tell them from applied ones. */
  duplicates: WeakSet<TicketingEvent>;
  isStopping: () => boolean;
  onBatch: (messages: number) => void;
  transientBudgetMs?: number;
}) {
  const { inventory, logger, duplicates } = deps;
  return async (events: TicketingEvent[]) => {
    deps.onBatch(events.length);
    const deadline = Date.now() + (deps.transientBudgetMs ?? 30_000);
    for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
      try {
        const results = await withSpan(
          'event-service',
          'seat_inventory.apply_event',
          {
            attributes: {
              'ticketing.routing_key': sameOrMixed(events.map((event) => event.type)),
              'ticketing.message_count': events.length,
              'ticketing.seat_count': events.reduce((seats, event) => seats + event.data.session_seat_ids.length, 0),
            },
          },
          async (span) => {
            const applied = await applyBookingEvents(inventory, events, logger);
            span?.setAttribute('ticketing.result', sameOrMixed(applied));
            return applied;
          },
        );
        results.forEach((result, index) => {
          if (result === 'duplicate') duplicates.add(events[index]);
        });
        return;
      } catch (error) {
        if (isTransientDatabaseError(error) && Date.now() + pause < deadline && !deps.isStopping()) {
          logger.warn({ err: error, message_ids: events.map((event) => event.id) }, 'Database unavailable; retrying the messages in place');
          await new Promise((resolve) => setTimeout(resolve, pause));
          continue;
        }
        // The platform retries the batch message by message, and dead-letters a message after
        // CONSUMER_MAX_ATTEMPTS attempts.
        throw error;
      }
    }
  };
}
