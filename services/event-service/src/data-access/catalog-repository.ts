import type { Knex } from '@ticketing/platform';
import type {
  AddSeatsResult,
  CatalogStore,
  OrganizerMember,
  Page,
  SeatInput,
  SessionRow,
  SessionSeatRow,
} from '../domain/catalog';
import { naturalSortKey } from '../domain/seat-order';

/** Seats per INSERT statement of a bulk call (5 text arrays of this length per statement). */
const SEAT_CHUNK = 20_000;
/** Seats per cursor fetch of a seat map render (about 200 bytes of JSON each). */
const SEAT_MAP_PAGE = 1_000;

const ORGANIZER_COLUMNS = ['id', 'name', 'description', 'contact_email', 'contact_phone', 'created_at', 'updated_at'];
const LOCATION_COLUMNS = ['id', 'name', 'address', 'city', 'country', 'timezone', 'organizer_id', 'created_at', 'updated_at'];
const MEMBER_COLUMNS = ['organizer_id', 'user_id', 'added_by', 'created_at'];
const HALL_COLUMNS = ['id', 'location_id', 'name', 'capacity', 'created_at', 'updated_at'];
const SEAT_COLUMNS = ['id', 'hall_id', 'row_number', 'seat_number', 'seat_type', 'created_at'];
const EVENT_COLUMNS = ['id', 'organizer_id', 'title', 'description', 'event_type', 'created_at', 'updated_at'];
const SESSION_COLUMNS = [
  'id',
  'event_id',
  'hall_id',
  'start_time',
  'end_time',
  'base_price',
  'seats_count',
  'created_at',
  'updated_at',
];
const SESSION_SEAT_COLUMNS = [
  'id',
  'session_id',
  'seat_id',
  'row_number',
  'seat_number',
  'seat_type',
  'price',
  'status',
  'reserved_until',
  'updated_at',
];

/** ISO-8601 UTC with milliseconds, as JavaScript's toISOString() writes it. */
const isoSql = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * One seat of the seat map as compact JSON, written by Postgres: the bytes row_to_json gives for these
 * columns (labels escaped by to_json; ids, numeric price and the status enum need no escaping), in half its time.
 */
const SEAT_JSON = `'{"session_seat_id":"' || ss.id || '","seat_id":"' || ss.seat_id
  || '","row_number":' || to_json(ss.row_number) || ',"seat_number":' || to_json(ss.seat_number)
  || ',"price":' || ss.price || ',"status":"' || ss.status
  || '","reserved_until":' || coalesce('"' || ${isoSql('ss.reserved_until')} || '"', 'null') || '}'`;

/** Postgres implementation of the catalog's storage. */
export function catalogRepository(db: Knex): CatalogStore {
  const insert = async <T>(table: string, columns: string[], values: object): Promise<T> => {
    const [row] = await db(table).insert(values).returning(columns);
    return row as T;
  };
  const find = async <T>(table: string, columns: string[], id: string): Promise<T | undefined> =>
    (await db(table).select(columns).where({ id }).first()) as T | undefined;
  const page = (query: Knex.QueryBuilder, { limit, offset }: Page) => query.limit(limit).offset(offset);

  return {
    insertOrganizer: (input, firstMemberId) =>
      db.transaction(async (trx) => {
        const [organizer] = await trx('organizers').insert(input).returning(ORGANIZER_COLUMNS);
        if (firstMemberId) await trx('organizer_members').insert({ organizer_id: organizer.id, user_id: firstMemberId });
        return organizer;
      }),
    async insertOrganizerMember(organizerId, userId, addedBy) {
      await db('organizer_members')
        .insert({ organizer_id: organizerId, user_id: userId, added_by: addedBy })
        .onConflict(['organizer_id', 'user_id'])
        .ignore();
      return (await db('organizer_members')
        .select(MEMBER_COLUMNS)
        .where({ organizer_id: organizerId, user_id: userId })
        .first()) as OrganizerMember;
    },
    listOrganizerMembers: (organizerId, p) =>
      page(
        db('organizer_members').select(MEMBER_COLUMNS).where({ organizer_id: organizerId }).orderBy(['created_at', 'user_id']),
        p,
      ) as Promise<OrganizerMember[]>,
    async isOrganizerMember(organizerId, userId) {
      const row = await db('organizer_members').select('user_id').where({ organizer_id: organizerId, user_id: userId }).first();
      return row !== undefined;
    },
    findOrganizer: (id) => find('organizers', ORGANIZER_COLUMNS, id),
    listOrganizers: (p) => page(db('organizers').select(ORGANIZER_COLUMNS).orderBy(['created_at', 'id']), p),

    insertLocation: (input) => insert('locations', LOCATION_COLUMNS, input),
    findLocation: (id) => find('locations', LOCATION_COLUMNS, id),
    listLocations: (p) => page(db('locations').select(LOCATION_COLUMNS).orderBy(['created_at', 'id']), p),

    insertHall: (input) => insert('halls', HALL_COLUMNS, input),
    findHall: (id) => find('halls', HALL_COLUMNS, id),
    listHalls: (filter, p) =>
      page(
        db('halls')
          .select(HALL_COLUMNS)
          .modify((q) => (filter.location_id ? q.where({ location_id: filter.location_id }) : q))
          .orderBy(['created_at', 'id']),
        p,
      ),

    async insertSeats(hallId, seats, maxSeats): Promise<AddSeatsResult | undefined> {
      return db.transaction(async (trx) => {
        // Locking the hall serialises seat additions per hall, so the size bound holds under concurrency.
        const hall = await trx('halls').select('id').where({ id: hallId }).forUpdate().first();
        if (!hall) return undefined;
        const { rows } = await trx.raw<{ rows: Array<{ count: number }> }>(
          'SELECT count(*)::int AS count FROM seats WHERE hall_id = ?',
          [hallId],
        );
        const current = rows[0].count;
        if (current + seats.length > maxSeats) return { hallFull: { current } };
        const existing = await existingSeats(trx, hallId, seats);
        if (existing.length) return { existing };
        let created = 0;
        for (let start = 0; start < seats.length; start += SEAT_CHUNK) {
          const chunk = seats.slice(start, start + SEAT_CHUNK);
          const result = await trx.raw(
            `INSERT INTO seats (hall_id, row_number, seat_number, seat_type, row_sort, seat_sort)
             SELECT ?, r, s, t, rs, ss
               FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(r, s, t, rs, ss)`,
            [
              hallId,
              chunk.map((seat) => seat.row_number),
              chunk.map((seat) => seat.seat_number),
              chunk.map((seat) => seat.seat_type),
              chunk.map((seat) => naturalSortKey(seat.row_number)),
              chunk.map((seat) => naturalSortKey(seat.seat_number)),
            ],
          );
          created += result.rowCount ?? 0;
        }
        return { created };
      });
    },
    listSeats: (hallId, p) =>
      page(db('seats').select(SEAT_COLUMNS).where({ hall_id: hallId }).orderBy(['row_sort', 'seat_sort']), p),
    findSeatByLabel: (hallId, rowNumber, seatNumber) =>
      db('seats').select(SEAT_COLUMNS).where({ hall_id: hallId, row_number: rowNumber, seat_number: seatNumber }).first(),

    insertEvent: (input) => insert('events', EVENT_COLUMNS, input),
    findEvent: (id) => find('events', EVENT_COLUMNS, id),
    listEvents: (filter, p) =>
      page(
        db('events')
          .select(EVENT_COLUMNS)
          .modify((q) => (filter.organizer_id ? q.where({ organizer_id: filter.organizer_id }) : q))
          .orderBy(['created_at', 'id']),
        p,
      ),

    async insertSessionWithSeats(input) {
      return db.transaction(async (trx) => {
        const [created] = await trx('sessions')
          .insert({
            event_id: input.event_id,
            hall_id: input.hall_id,
            start_time: input.start_time,
            end_time: input.end_time,
            base_price: input.base_price,
          })
          .returning('id');
        const copied = await copyHallSeats(trx, created.id, input);
        const [session] = await trx('sessions')
          .update({ seats_count: copied })
          .where({ id: created.id })
          .returning(SESSION_COLUMNS);
        return session as SessionRow;
      });
    },
    async countHallSeats(hallId) {
      const { rows } = await db.raw<{ rows: Array<{ count: number }> }>(
        'SELECT count(*)::int AS count FROM seats WHERE hall_id = ?',
        [hallId],
      );
      return rows[0].count;
    },
    findSession: (id) => find<SessionRow>('sessions', SESSION_COLUMNS, id),
    listSessions: (filter, p) =>
      page(
        db('sessions')
          .select(SESSION_COLUMNS)
          .modify((q) => (filter.event_id ? q.where({ event_id: filter.event_id }) : q))
          .modify((q) => (filter.hall_id ? q.where({ hall_id: filter.hall_id }) : q))
          .orderBy(['start_time', 'id']),
        p,
      ) as Promise<SessionRow[]>,
    listSessionSeats: (sessionId, p) =>
      page(
        db('session_seats').select(SESSION_SEAT_COLUMNS).where({ session_id: sessionId }).orderBy(['row_sort', 'seat_sort']),
        p,
      ) as Promise<SessionSeatRow[]>,

    async streamSeatMap(sessionId, write) {
      // A read-only snapshot read through a server-side cursor, SEAT_MAP_PAGE seats at a time: Postgres writes
      // each seat's compact JSON itself, in (session_id, row_sort, seat_sort) index order, and the process
      // never holds more than one page of it, however big the hall.
      return db.transaction(
        async (trx) => {
          const { rows } = await trx.raw<{ rows: Array<{ id: string; hall_id: string }> }>(
            'SELECT id, hall_id FROM sessions WHERE id = ?',
            [sessionId],
          );
          if (!rows.length) return false;
          await write(`{"session_id":"${rows[0].id}","hall_id":"${rows[0].hall_id}","seats":[`);
          await trx.raw(
            `DECLARE seat_map NO SCROLL CURSOR FOR
               SELECT ${SEAT_JSON} AS json
                 FROM session_seats ss
                WHERE ss.session_id = ?
                ORDER BY ss.row_sort, ss.seat_sort`,
            [sessionId],
          );
          for (let first = true; ; first = false) {
            const page = await trx.raw<{ rows: Array<{ json: string }> }>(`FETCH ${SEAT_MAP_PAGE} FROM seat_map`);
            if (!page.rows.length) break;
            await write((first ? '' : ',') + page.rows.map((row) => row.json).join(','));
            if (page.rows.length < SEAT_MAP_PAGE) break;
          }
          await write(']}');
          return true;
        },
        { isolationLevel: 'repeatable read', readOnly: true },
      );
    },
  };
}

async function existingSeats(trx: Knex.Transaction, hallId: string, seats: SeatInput[]): Promise<SeatInput[]> {
  const { rows } = await trx.raw<{ rows: SeatInput[] }>(
    `SELECT s.row_number, s.seat_number, s.seat_type
       FROM seats s
       JOIN unnest(?::text[], ?::text[]) AS u(r, n) ON s.row_number = u.r AND s.seat_number = u.n
      WHERE s.hall_id = ?
      ORDER BY s.row_sort, s.seat_sort
      LIMIT 20`,
    [seats.map((seat) => seat.row_number), seats.map((seat) => seat.seat_number), hallId],
  );
  return rows;
}

/** INSERT … SELECT of every hall seat into the new session, priced base_price × the seat type's multiplier. */
async function copyHallSeats(
  trx: Knex.Transaction,
  sessionId: string,
  input: { hall_id: string; base_price: string; seat_type_multipliers?: Record<string, number> },
): Promise<number> {
  const multipliers = JSON.stringify(
    Object.fromEntries(Object.entries(input.seat_type_multipliers ?? {}).map(([type, factor]) => [type, String(factor)])),
  );
  const result = await trx.raw(
    `INSERT INTO session_seats (session_id, seat_id, row_number, seat_number, seat_type, row_sort, seat_sort, price)
     SELECT ?, s.id, s.row_number, s.seat_number, s.seat_type, s.row_sort, s.seat_sort,
            round(?::numeric * coalesce((?::jsonb ->> s.seat_type)::numeric, 1), 2)
       FROM seats s
      WHERE s.hall_id = ?`,
    [sessionId, input.base_price, multipliers, input.hall_id],
  );
  return result.rowCount ?? 0;
}
