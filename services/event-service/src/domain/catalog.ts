/**
 * The catalog: organizers, locations, halls and their seats, events and their sessions. A session gets one
 * session seat per hall seat when it is created, so its seat map is complete from the first moment.
 */
import { conflict, notFound, unprocessable } from '@ticketing/platform';
import { moneyToNumber } from './money';
import type { RenderedSeatMap, SeatMapCache, SeatMapRenderer } from './seat-map-cache';

export interface Page {
  limit: number;
  offset: number;
}

export interface OrganizerInput {
  name: string;
  description: string | null;
  contact_email: string | null;
  contact_phone: string | null;
}
export interface LocationInput {
  name: string;
  address: string | null;
  city: string | null;
  country: string | null;
  timezone: string;
}
export interface HallInput {
  location_id: string;
  name: string;
  capacity: number | null;
}
export interface SeatInput {
  row_number: string;
  seat_number: string;
  seat_type: string;
}
export interface EventInput {
  organizer_id: string;
  title: string;
  description: string | null;
  event_type: string;
}
export interface SessionInput {
  event_id: string;
  hall_id: string;
  start_time: string;
  end_time: string;
  /** Exact decimal string, e.g. "100.00". */
  base_price: string;
  seat_type_multipliers?: Record<string, number>;
}

type Row = Record<string, unknown>;
export interface SessionRow {
  id: string;
  event_id: string;
  hall_id: string;
  start_time: Date;
  end_time: Date;
  base_price: string;
  seats_count: number;
  created_at: Date;
  updated_at: Date;
}
export interface SessionSeatRow {
  id: string;
  session_id: string;
  seat_id: string;
  row_number: string;
  seat_number: string;
  seat_type: string;
  price: string;
  status: string;
  reserved_until: Date | null;
  updated_at: Date;
}

export type AddSeatsResult = { created: number } | { existing: SeatInput[] } | { hallFull: { current: number } };

export interface CatalogStore {
  insertOrganizer(input: OrganizerInput): Promise<Row>;
  findOrganizer(id: string): Promise<Row | undefined>;
  listOrganizers(page: Page): Promise<Row[]>;
  insertLocation(input: LocationInput): Promise<Row>;
  findLocation(id: string): Promise<Row | undefined>;
  listLocations(page: Page): Promise<Row[]>;
  insertHall(input: HallInput): Promise<Row>;
  findHall(id: string): Promise<Row | undefined>;
  listHalls(filter: { location_id?: string }, page: Page): Promise<Row[]>;
  /**
   * Adds seats in one transaction with the hall locked. Refuses (adding nothing) if any seat already exists
   * in the hall or the hall would exceed `maxSeats`. Undefined when the hall does not exist.
   */
  insertSeats(hallId: string, seats: SeatInput[], maxSeats: number): Promise<AddSeatsResult | undefined>;
  listSeats(hallId: string, page: Page): Promise<Row[]>;
  findSeatByLabel(hallId: string, rowNumber: string, seatNumber: string): Promise<Row | undefined>;
  insertEvent(input: EventInput): Promise<Row>;
  findEvent(id: string): Promise<Row | undefined>;
  listEvents(filter: { organizer_id?: string }, page: Page): Promise<Row[]>;
  /** Inserts the session and copies the hall's seats into session seats, in one transaction. */
  insertSessionWithSeats(input: SessionInput): Promise<SessionRow>;
  countHallSeats(hallId: string): Promise<number>;
  findSession(id: string): Promise<SessionRow | undefined>;
  listSessions(filter: { event_id?: string; hall_id?: string }, page: Page): Promise<SessionRow[]>;
  listSessionSeats(sessionId: string, page: Page): Promise<SessionSeatRow[]>;
  /** Writes the seat map as JSON text in pieces (one consistent snapshot); false for an unknown session. */
  streamSeatMap: SeatMapRenderer;
}

const required = <T>(value: T | undefined, resource: string, id: string): T => {
  if (value === undefined) throw notFound(resource, id);
  return value;
};

// ---- organizers, locations, halls -------------------------------------------------------------------

export const createOrganizer = (store: CatalogStore, input: OrganizerInput) => store.insertOrganizer(input);
export const getOrganizer = async (store: CatalogStore, id: string) =>
  required(await store.findOrganizer(id), 'Organizer', id);
export const listOrganizers = (store: CatalogStore, page: Page) => store.listOrganizers(page);

export const createLocation = (store: CatalogStore, input: LocationInput) => store.insertLocation(input);
export const getLocation = async (store: CatalogStore, id: string) =>
  required(await store.findLocation(id), 'Location', id);
export const listLocations = (store: CatalogStore, page: Page) => store.listLocations(page);

export async function createHall(store: CatalogStore, input: HallInput) {
  await getLocation(store, input.location_id);
  return store.insertHall(input);
}
export const getHall = async (store: CatalogStore, id: string) => required(await store.findHall(id), 'Hall', id);
export async function listHalls(store: CatalogStore, filter: { location_id?: string }, page: Page) {
  if (filter.location_id) await getLocation(store, filter.location_id);
  return store.listHalls(filter, page);
}

// ---- seats ------------------------------------------------------------------------------------------

/**
 * Adds seats to a hall, all or none: a seat that already exists (same row and number) is a 409, and a hall
 * may not grow beyond `maxSeats` (a sanity bound well above any real venue; `capacity` is informational).
 * Sessions copy the hall's seats when they are created, so seats added later only appear in later sessions.
 */
export async function addSeats(store: CatalogStore, hallId: string, seats: SeatInput[], maxSeats: number) {
  const result = required(await store.insertSeats(hallId, seats, maxSeats), 'Hall', hallId);
  if ('existing' in result) {
    throw conflict('SEAT_EXISTS', 'A seat with this row and seat number already exists in the hall', {
      existing: result.existing,
    });
  }
  if ('hallFull' in result) {
    throw unprocessable(
      `A hall holds at most ${maxSeats} seats; it has ${result.hallFull.current} and ${seats.length} more were sent`,
      { max_seats: maxSeats, current: result.hallFull.current, requested: seats.length },
      'HALL_SEAT_LIMIT',
    );
  }
  return { hall_id: hallId, created: result.created };
}

export async function addSeat(store: CatalogStore, hallId: string, seat: SeatInput, maxSeats: number) {
  await addSeats(store, hallId, [seat], maxSeats);
  return required(await store.findSeatByLabel(hallId, seat.row_number, seat.seat_number), 'Seat', hallId);
}

export async function listSeats(store: CatalogStore, hallId: string, page: Page) {
  await getHall(store, hallId);
  return store.listSeats(hallId, page);
}

// ---- events and sessions ----------------------------------------------------------------------------

export async function createEvent(store: CatalogStore, input: EventInput) {
  await getOrganizer(store, input.organizer_id);
  return store.insertEvent(input);
}
export const getEvent = async (store: CatalogStore, id: string) => required(await store.findEvent(id), 'Event', id);
export async function listEvents(store: CatalogStore, filter: { organizer_id?: string }, page: Page) {
  if (filter.organizer_id) await getOrganizer(store, filter.organizer_id);
  return store.listEvents(filter, page);
}

const sessionView = (row: SessionRow) => ({ ...row, base_price: moneyToNumber(row.base_price) });

/**
 * Creates a session of an event in a hall, with one available session seat per hall seat priced at
 * base_price (times the seat type's multiplier when one is given), all in one transaction.
 */
export async function createSession(store: CatalogStore, input: SessionInput) {
  await getEvent(store, input.event_id);
  await getHall(store, input.hall_id);
  if ((await store.countHallSeats(input.hall_id)) === 0) {
    throw unprocessable('The hall has no seats yet; add seats before creating a session', { hall_id: input.hall_id }, 'HALL_HAS_NO_SEATS');
  }
  return sessionView(await store.insertSessionWithSeats(input));
}
export const getSession = async (store: CatalogStore, id: string) =>
  sessionView(required(await store.findSession(id), 'Session', id));
export async function listSessions(store: CatalogStore, filter: { event_id?: string; hall_id?: string }, page: Page) {
  if (filter.event_id) await getEvent(store, filter.event_id);
  if (filter.hall_id) await getHall(store, filter.hall_id);
  return (await store.listSessions(filter, page)).map(sessionView);
}

export async function listSessionSeats(store: CatalogStore, sessionId: string, page: Page) {
  required(await store.findSession(sessionId), 'Session', sessionId);
  return (await store.listSessionSeats(sessionId, page)).map(({ id, ...row }) => ({
    id,
    session_seat_id: id,
    ...row,
    price: moneyToNumber(row.price),
  }));
}

/** The rendered seat map of the session (possibly up to the cache's time-to-live old); 404 if unknown. */
export async function getSeatMap(seatMaps: SeatMapCache, sessionId: string): Promise<RenderedSeatMap> {
  return required(await seatMaps.get(sessionId), 'Session', sessionId);
}
