/**
 * The catalog: organizers, locations, halls and their seats, events and their sessions. A session gets one
 * session seat per hall seat when it is created, so its seat map is complete from the first moment.
 */
import { conflict, hasRole, notFound, unprocessable, type Actor } from '@ticketing/platform';
import {
  actorUserId,
  assertManagesOrganizer,
  assertManagesVenue,
  assertMayCreateOrganizer,
  type OwnershipStore,
} from './catalog-ownership';
import { moneyToNumber } from './money';

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
  /** The organizer that owns the venue (required for an organizer in jwt mode, who must be its member). */
  organizer_id?: string | null;
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

export interface OrganizerMember {
  organizer_id: string;
  user_id: string;
  added_by: string | null;
  created_at: Date;
}

/**
 * Writes the session's seat map as JSON text in pieces, awaiting each `write` (backpressure); resolves
 * false, writing nothing, when the session does not exist.
 */
export type SeatMapRenderer = (sessionId: string, write: (piece: string) => Promise<void>) => Promise<boolean>;

export interface CatalogStore extends OwnershipStore {
  /** Inserts the organizer and, when given, its first member, in one transaction. */
  insertOrganizer(input: OrganizerInput, firstMemberId?: string): Promise<Row>;
  /** Adds a member (no-op if already one) and returns the membership. */
  insertOrganizerMember(organizerId: string, userId: string, addedBy: string | null): Promise<OrganizerMember>;
  listOrganizerMembers(organizerId: string, page: Page): Promise<OrganizerMember[]>;
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

export function createOrganizer(store: CatalogStore, actor: Actor, input: OrganizerInput) {
  assertMayCreateOrganizer(actor);
  return store.insertOrganizer(input, actorUserId(actor));
}
export const getOrganizer = async (store: CatalogStore, id: string) =>
  required(await store.findOrganizer(id), 'Organizer', id);
export const listOrganizers = (store: CatalogStore, page: Page) => store.listOrganizers(page);

// ---- members ----------------------------------------------------------------------------------------

export async function addOrganizerMember(store: CatalogStore, actor: Actor, organizerId: string, userId: string) {
  await getOrganizer(store, organizerId);
  await assertManagesOrganizer(store, actor, organizerId);
  return store.insertOrganizerMember(organizerId, userId, actorUserId(actor) ?? null);
}

export async function listOrganizerMembers(store: CatalogStore, organizerId: string, page: Page) {
  await getOrganizer(store, organizerId);
  return store.listOrganizerMembers(organizerId, page);
}

// ---- venues -----------------------------------------------------------------------------------------

/**
 * A location records the organizer that owns it. An organizer must name one it is a member of (so its venues
 * never end up unowned); an admin, or anyone in development's open catalog, may leave it out.
 */
export async function createLocation(store: CatalogStore, actor: Actor, input: LocationInput) {
  if (input.organizer_id) {
    await getOrganizer(store, input.organizer_id);
    await assertManagesOrganizer(store, actor, input.organizer_id);
  } else if (actor.kind === 'user' && !hasRole(actor.caller, 'admin')) {
    await assertManagesVenue(store, actor, {});
  }
  return store.insertLocation({ ...input, organizer_id: input.organizer_id ?? null });
}
export const getLocation = async (store: CatalogStore, id: string) =>
  required(await store.findLocation(id), 'Location', id);
export const listLocations = (store: CatalogStore, page: Page) => store.listLocations(page);

export async function createHall(store: CatalogStore, actor: Actor, input: HallInput) {
  await assertManagesVenue(store, actor, await getLocation(store, input.location_id));
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
export async function addSeats(store: CatalogStore, actor: Actor, hallId: string, seats: SeatInput[], maxSeats: number) {
  if (actor.kind === 'user') {
    const hall = await getHall(store, hallId);
    await assertManagesVenue(store, actor, await getLocation(store, String(hall.location_id)));
  }
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

export async function addSeat(store: CatalogStore, actor: Actor, hallId: string, seat: SeatInput, maxSeats: number) {
  await addSeats(store, actor, hallId, [seat], maxSeats);
  return required(await store.findSeatByLabel(hallId, seat.row_number, seat.seat_number), 'Seat', hallId);
}

export async function listSeats(store: CatalogStore, hallId: string, page: Page) {
  await getHall(store, hallId);
  return store.listSeats(hallId, page);
}

// ---- events and sessions ----------------------------------------------------------------------------

export async function createEvent(store: CatalogStore, actor: Actor, input: EventInput) {
  await getOrganizer(store, input.organizer_id);
  await assertManagesOrganizer(store, actor, input.organizer_id);
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
 * base_price (times the seat type's multiplier when one is given), all in one transaction. The session
 * belongs to its event's organizer; any hall may host it (a session only reads the hall's seats).
 */
export async function createSession(store: CatalogStore, actor: Actor, input: SessionInput) {
  const event = await getEvent(store, input.event_id);
  await assertManagesOrganizer(store, actor, String(event.organizer_id));
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

/** Who organizes a session, and whether the user is one of its members (the booking service's price tier check). */
export async function getSessionOrganizer(store: CatalogStore, sessionId: string, userId: string) {
  const session = required(await store.findSession(sessionId), 'Session', sessionId);
  const event = required(await store.findEvent(session.event_id), 'Event', session.event_id);
  const organizerId = String(event.organizer_id);
  return { session_id: sessionId, organizer_id: organizerId, member: await store.isOrganizerMember(organizerId, userId) };
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
