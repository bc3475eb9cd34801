import type { Knex, Migration } from '@ticketing/platform';

/**
 * The catalog (organizers → locations → halls → seats, events → sessions) and the seat inventory of every
 * session. Seats are immutable once created (there is no API to edit or delete them), so a session seat
 * carries a copy of its row/seat numbers, type and natural sort keys: the seat map and the hold answers are
 * then read from session_seats alone, in index order.
 *
 * row_sort / seat_sort are natural sort keys ("2" before "10", rows may be letters) computed by
 * naturalSortKey() in seat-repository.ts and compared bytewise (COLLATE "C").
 */
export const catalogAndSeatInventory: Migration = {
  name: '001-catalog-and-seat-inventory',
  async up(db: Knex) {
    await db.raw(`
      CREATE TABLE organizers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text,
        contact_email text,
        contact_phone text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE locations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        address text,
        city text,
        country text,
        timezone text NOT NULL DEFAULT 'UTC',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      CREATE TABLE halls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        location_id uuid NOT NULL REFERENCES locations (id),
        name text NOT NULL,
        capacity integer CHECK (capacity >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX halls_location_idx ON halls (location_id, created_at, id);

      CREATE TABLE seats (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        hall_id uuid NOT NULL REFERENCES halls (id),
        row_number text NOT NULL,
        seat_number text NOT NULL,
        seat_type text NOT NULL DEFAULT 'standard',
        row_sort text COLLATE "C" NOT NULL,
        seat_sort text COLLATE "C" NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT seats_hall_row_seat_unique UNIQUE (hall_id, row_number, seat_number)
      );
      CREATE INDEX seats_hall_order_idx ON seats (hall_id, row_sort, seat_sort);

      CREATE TABLE events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organizer_id uuid NOT NULL REFERENCES organizers (id),
        title text NOT NULL,
        description text,
        event_type text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX events_organizer_idx ON events (organizer_id, created_at, id);

      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id uuid NOT NULL REFERENCES events (id),
        hall_id uuid NOT NULL REFERENCES halls (id),
        start_time timestamptz NOT NULL,
        end_time timestamptz NOT NULL,
        base_price numeric(12, 2) NOT NULL CHECK (base_price >= 0),
        seats_count integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT sessions_time_order CHECK (end_time > start_time)
      );
      CREATE INDEX sessions_event_idx ON sessions (event_id, start_time, id);
      CREATE INDEX sessions_hall_idx ON sessions (hall_id, start_time, id);
      CREATE INDEX sessions_start_idx ON sessions (start_time, id);

      CREATE TABLE session_seats (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        session_id uuid NOT NULL REFERENCES sessions (id),
        seat_id uuid NOT NULL REFERENCES seats (id),
        row_number text NOT NULL,
        seat_number text NOT NULL,
        seat_type text NOT NULL,
        row_sort text COLLATE "C" NOT NULL,
        seat_sort text COLLATE "C" NOT NULL,
        status text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'reserved', 'sold')),
        price numeric(12, 2) NOT NULL CHECK (price >= 0),
        reservation_id uuid,
        reserved_until timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT session_seats_session_seat_unique UNIQUE (session_id, seat_id),
        -- A held or sold seat always names its reservation; an available one never does.
        CONSTRAINT session_seats_holder CHECK ((status = 'available') = (reservation_id IS NULL))
      );
      CREATE INDEX session_seats_map_idx ON session_seats (session_id, row_sort, seat_sort);
      CREATE INDEX session_seats_hold_idx ON session_seats (session_id, reservation_id)
        WHERE reservation_id IS NOT NULL;
    `);
  },
  async down(db: Knex) {
    await db.raw(`
      DROP TABLE IF EXISTS session_seats;
      DROP TABLE IF EXISTS sessions;
      DROP TABLE IF EXISTS events;
      DROP TABLE IF EXISTS seats;
      DROP TABLE IF EXISTS halls;
      DROP TABLE IF EXISTS locations;
      DROP TABLE IF EXISTS organizers;
    `);
  },
};
