/**
 * Booking's asynchronous events (reservation.confirmed / expired / cancelled, ticket.refunded) applied to
 * the seat inventory. A batch of events is applied in one transaction with the record of their ids, so a
 * redelivered or duplicated message changes nothing, and the cost of a transaction (and its round trips)
 * is paid once per batch instead of once per message:
 *
 * 1. record every message id and lock the seats of the new ones, in id order, in one statement;
 * 2. read the refunds already known for the reservations being confirmed (after the lock, so a refund
 *    committed by a concurrent consumer while we waited is seen);
 * 3. replay the events in delivery order on the locked states with the same rules as everywhere else
 *    (planSale, planRelease, planRefund), so a confirm and a refund of one reservation in the same batch
 *    end exactly as they would one message at a time;
 * 4. write every seat whose state changed, and the refunds, in one statement whose WHERE clause repeats
 *    the state each decision was made from.
 *
 * Any order is safe: refunds are remembered, so a confirm that arrives after the refund of the same seat
 * leaves it available.
 */
import { z } from 'zod';
import type { Logger, TicketingEvent } from '@ticketing/platform';
import {
  planRefund,
  planRelease,
  planSale,
  type SeatState,
  type SeatStatus,
} from './seat-inventory';

export type EventApplyResult = 'applied' | 'duplicate';

/** The seats one message names, as the storage records and locks them. */
export interface MessageSeats {
  id: string;
  routingKey: string;
  sessionId: string;
  seatIds: string[];
}

export interface LockedSeat extends SeatState {
  session_id: string;
}

export interface SeatChange {
  id: string;
  /** The locked state the change was decided from; the write refuses a row in any other state. */
  from: Pick<SeatState, 'status' | 'reservation_id'>;
  to: { status: SeatStatus; reservation_id: string | null };
}

export interface RefundRecord {
  reservationId: string;
  sessionId: string;
  seatId: string;
  ticketId?: string;
  messageId: string;
}

/** The storage a batch needs, inside one transaction. */
export interface BookingEventTransaction {
  /**
   * Records the message ids (those already recorded are duplicates) and locks FOR UPDATE, in id order, the
   * named seats of the new messages that belong to the message's session; in one statement.
   */
  recordMessagesAndLockSeats(messages: MessageSeats[]): Promise<{ recorded: Set<string>; seats: LockedSeat[] }>;
  /** Every seat ever refunded for these reservations. */
  refundsOf(reservationIds: string[]): Promise<Array<{ reservation_id: string; session_seat_id: string }>>;
  /** Applies the changes and records the refunds; returns how many seats changed. */
  writeSeatChanges(changes: SeatChange[], refunds: RefundRecord[]): Promise<number>;
}

export interface BookingEventStore {
  transactionForEvents<T>(work: (tx: BookingEventTransaction) => Promise<T>): Promise<T>;
}

type EventLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

const refundKey = (reservationId: string, seatId: string) => `${reservationId}/${seatId}`;

/** The locked seats of a batch as they evolve while its events are replayed in order. */
class SeatBoard {
  private readonly current = new Map<string, LockedSeat>();
  private readonly original = new Map<string, LockedSeat>();

  constructor(seats: LockedSeat[]) {
    for (const seat of seats) {
      this.original.set(seat.id, seat);
      this.current.set(seat.id, { ...seat });
    }
  }

  /** The message's seats that exist in its session, in their current state. */
  seatsOf(sessionId: string, seatIds: string[]): SeatState[] {
    return seatIds.flatMap((id) => {
      const seat = this.current.get(id);
      return seat && seat.session_id === sessionId ? [{ id, status: seat.status, reservation_id: seat.reservation_id }] : [];
    });
  }

  set(seatIds: string[], status: SeatStatus, reservationId: string | null) {
    for (const id of seatIds) {
      const seat = this.current.get(id)!;
      seat.status = status;
      seat.reservation_id = reservationId;
    }
  }

  changes(): SeatChange[] {
    const changes: SeatChange[] = [];
    for (const [id, seat] of this.current) {
      const before = this.original.get(id)!;
      if (seat.status === before.status && seat.reservation_id === before.reservation_id) continue;
      changes.push({
        id,
        from: { status: before.status, reservation_id: before.reservation_id },
        to: { status: seat.status, reservation_id: seat.reservation_id },
      });
    }
    return changes;
  }
}

interface BatchState {
  board: SeatBoard;
  refunded: Set<string>;
  refundsToRecord: RefundRecord[];
  logger: EventLogger;
}

function applyConfirmed(event: TicketingEvent, seats: SeatState[], state: BatchState) {
  const { reservation_id: reservationId, session_id: sessionId } = event.data;
  const refunded = new Set(seats.filter((seat) => state.refunded.has(refundKey(reservationId, seat.id))).map((seat) => seat.id));
  const plan = planSale(seats, reservationId, refunded, true);
  if (plan.conflicts.length) {
    state.logger.error(
      { reservation_id: reservationId, session_id: sessionId, conflicts: plan.conflicts },
      'CONFIRMED RESERVATION COLLIDES WITH ANOTHER RESERVATION: seats held or sold by someone else were not sold; needs manual review',
    );
  }
  if (plan.unheld.length) {
    state.logger.warn(
      { reservation_id: reservationId, session_id: sessionId, seats: plan.unheld },
      'Confirmed reservation no longer held these seats; selling them because booking issued tickets',
    );
  }
  state.board.set(plan.toSell, 'sold', reservationId);
  state.board.set(plan.toFree, 'available', null);
  state.logger.info(
    { reservation_id: reservationId, sold: plan.toSell.length, refunded_earlier: plan.toFree.length },
    'Reservation confirmed: seats sold',
  );
}

function applyReleased(event: TicketingEvent, seats: SeatState[], state: BatchState) {
  const reservationId = event.data.reservation_id;
  const plan = planRelease(seats, reservationId);
  state.board.set(plan.toFree, 'available', null);
  state.logger.info({ reservation_id: reservationId, released: plan.toFree.length }, 'Reservation ended: seats released');
}

function applyRefunded(event: TicketingEvent, seats: SeatState[], state: BatchState) {
  const { reservation_id: reservationId, session_id: sessionId } = event.data;
  const ticketId = z.guid().safeParse(event.data.ticket_id).data;
  for (const seat of seats) {
    state.refunded.add(refundKey(reservationId, seat.id));
    state.refundsToRecord.push({ reservationId, sessionId, seatId: seat.id, ticketId, messageId: event.id });
  }
  const toFree = planRefund(seats, reservationId);
  state.board.set(toFree, 'available', null);
  state.logger.info({ reservation_id: reservationId, ticket_id: ticketId, released: toFree.length }, 'Ticket refunded: seats back on sale');
}

const APPLY: Record<TicketingEvent['type'], (event: TicketingEvent, seats: SeatState[], state: BatchState) => void> = {
  'reservation.confirmed': applyConfirmed,
  'reservation.expired': applyReleased,
  'reservation.cancelled': applyReleased,
  'ticket.refunded': applyRefunded,
};

const uniqueSeatIds = (event: TicketingEvent) => [...new Set(event.data.session_seat_ids)];

/**
 * Applies a batch of booking events in delivery order, in one transaction; returns each event's result
 * ('duplicate' for a message id already applied, including a repeat within the batch). If the transaction
 * fails, none of the batch is applied.
 */
export async function applyBookingEvents(
  store: BookingEventStore,
  events: TicketingEvent[],
  logger: EventLogger,
): Promise<EventApplyResult[]> {
  const firstIndexOfId = new Map<string, number>();
  events.forEach((event, index) => {
    if (!firstIndexOfId.has(event.id)) firstIndexOfId.set(event.id, index);
  });
  const unique = [...firstIndexOfId.values()].map((index) => events[index]);

  const recorded = await store.transactionForEvents(async (tx) => {
    const locked = await tx.recordMessagesAndLockSeats(
      unique.map((event) => ({ id: event.id, routingKey: event.type, sessionId: event.data.session_id, seatIds: uniqueSeatIds(event) })),
    );
    const fresh = unique.filter((event) => locked.recorded.has(event.id));
    const confirmedReservations = [
      ...new Set(fresh.filter((event) => event.type === 'reservation.confirmed').map((event) => event.data.reservation_id)),
    ];
    const knownRefunds = confirmedReservations.length ? await tx.refundsOf(confirmedReservations) : [];
    const state: BatchState = {
      board: new SeatBoard(locked.seats),
      refunded: new Set(knownRefunds.map((refund) => refundKey(refund.reservation_id, refund.session_seat_id))),
      refundsToRecord: [],
      logger,
    };
    for (const event of fresh) {
      const seatIds = uniqueSeatIds(event);
      const seats = state.board.seatsOf(event.data.session_id, seatIds);
      if (seats.length < seatIds.length) {
        const known = new Set(seats.map((seat) => seat.id));
        logger.warn(
          { reservation_id: event.data.reservation_id, session_id: event.data.session_id, unknown: seatIds.filter((id) => !known.has(id)) },
          'Message names seats this session does not have; ignoring them',
        );
      }
      APPLY[event.type](event, seats, state);
    }
    const changes = state.board.changes();
    if (changes.length || state.refundsToRecord.length) {
      const written = await tx.writeSeatChanges(changes, state.refundsToRecord);
      // The seats are locked, so every row is still in the state it was decided from; anything else is a bug.
      if (written !== changes.length) throw new Error(`Seat changes applied to ${written} of ${changes.length} locked seats`);
    }
    return locked.recorded;
  });

  for (const event of unique) {
    if (!recorded.has(event.id)) logger.info({ message_id: event.id, routing_key: event.type }, 'Duplicate message ignored');
  }
  return events.map((event, index) => (recorded.has(event.id) && firstIndexOfId.get(event.id) === index ? 'applied' : 'duplicate'));
}

/** One event on its own: a batch of one. */
export async function applyBookingEvent(store: BookingEventStore, event: TicketingEvent, logger: EventLogger): Promise<EventApplyResult> {
  const [result] = await applyBookingEvents(store, [event], logger);
  return result;
}
