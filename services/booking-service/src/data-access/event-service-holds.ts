import { AppError, conflict, notFound, serviceUnavailable, withSpan, type Logger } from '@ticketing/platform';
import {
  EventServiceRejectedError,
  EventServiceUnavailableError,
  type EventServiceClient,
  type PlacedHold,
  type SeatHolds,
} from '../domain/event-service';
import type { PendingHoldRepository } from '../domain/store';

/**
 * The domain's SeatHolds over the event service client: compensation (release or forget the journal entry of
 * a hold that failed) and the translation of the client's errors into the buyer's AppErrors live here, with
 * the client, so placeHold reads as a story.
 */
export function createSeatHolds(eventService: EventServiceClient, pendingHolds: Pick<PendingHoldRepository, 'clear'>, logger: Logger): SeatHolds {
  async function forget(reservationId: string) {
    await pendingHolds.clear(reservationId).catch((error: unknown) => {
      // Harmless: the sweep will send a release for a hold that does not exist.
      logger.warn({ err: error, reservation_id: reservationId }, 'Could not clear pending hold');
    });
  }

  async function release(hold: PlacedHold, cause: unknown) {
    logger.warn({ err: cause, reservation_id: hold.reservationId }, 'Reservation failed after the hold; releasing it');
    try {
      await eventService.releaseSeats(hold);
    } catch (error) {
      logger.error({ err: error, reservation_id: hold.reservationId }, 'Could not release the hold; the expiry sweep will release it');
      return;
    }
    await forget(hold.reservationId);
  }

  return {
    place(request) {
      const attributes = { 'ticketing.reservation_id': request.reservationId, 'ticketing.seat_count': request.sessionSeatIds.length };
      return withSpan('booking-service', 'event_service.hold', { attributes }, async () => {
        try {
          return await eventService.reserveSeats(request);
        } catch (error) {
          const { reservedUntil: _, ...hold } = request;
          if (error instanceof EventServiceUnavailableError && error.mayHaveApplied) await release(hold, error);
          else await forget(request.reservationId);
          throw buyerFacingError(error, request.sessionId);
        }
      });
    },
    release,
  };
}

function buyerFacingError(error: unknown, sessionId: string): unknown {
  if (error instanceof EventServiceUnavailableError) {
    return serviceUnavailable('EVENT_SERVICE_UNAVAILABLE', 'The event service is unavailable, try again shortly');
  }
  if (!(error instanceof EventServiceRejectedError)) return error;
  if (error.status === 404) return notFound('Session', sessionId);
  if (error.status === 409 && error.code === 'SEATS_UNAVAILABLE') {
    return conflict('SEATS_UNAVAILABLE', error.message || 'Seat already locked by another user', {
      unavailable: (error.details?.unavailable as unknown[] | undefined) ?? [],
    });
  }
  if (error.status === 409) return conflict(error.code, error.message, error.details);
  return new AppError(502, 'EVENT_SERVICE_ERROR', 'The event service refused the hold unexpectedly', {
    status: error.status,
    code: error.code,
  });
}
