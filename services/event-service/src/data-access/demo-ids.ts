/**
 * Ids of the demo data (docs/user-flow.md). The ones the seed document names are fixed; every other id is a
 * name-based UUID (version 5: SHA-1 of a fixed namespace and a name), so it is the same on every machine
 * and every run.
 */
import { createHash } from 'node:crypto';

/** Namespace of every derived demo id. */
export const DEMO_NAMESPACE = '6f1c8a52-3d0e-4b7a-9e25-8c4d2b1a7f30';

/** RFC 4122 version-5 UUID of `name` in `namespace`. */
export function uuidV5(name: string, namespace = DEMO_NAMESPACE): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const DEMO_ROWS = 10;
export const DEMO_SEATS_PER_ROW = 20;
export const DEMO_BASE_PRICE = 100;

export const DEMO_ORGANIZER_ID = uuidV5('organizer');
export const DEMO_LOCATION_ID = uuidV5('location');
export const DEMO_HALL_ID = '24c9d755-b21c-42b0-b9d9-42f11e5fe6b5';
export const DEMO_EVENT_ID = uuidV5('event');
export const DEMO_SESSION_ID = 'b623792d-f564-44c4-a6cd-255b83f9a4db';

/** Row 1, seat 4 and row 1, seat 5 of the seed document. */
export const DEMO_SEAT_R1_S4_ID = '09832325-0860-4429-9c9d-5e5325da7af1';
export const DEMO_SESSION_SEAT_R1_S4_ID = 'fd67f9ef-6058-4f48-a6a6-ba4fcf7435cd';
export const DEMO_SEAT_R1_S5_ID = '1567af4c-fe5e-4dc4-bf73-bf8bedbf3915';
export const DEMO_SESSION_SEAT_R1_S5_ID = '42a95132-a946-4569-8bba-010ed85a5ad3';

const FIXED_SEATS: Record<string, { seat: string; sessionSeat: string }> = {
  '1/4': { seat: DEMO_SEAT_R1_S4_ID, sessionSeat: DEMO_SESSION_SEAT_R1_S4_ID },
  '1/5': { seat: DEMO_SEAT_R1_S5_ID, sessionSeat: DEMO_SESSION_SEAT_R1_S5_ID },
};

/** Hall seat id of the demo hall's seat in `row` (1..10), `seat` (1..20). */
export const demoSeatId = (row: number, seat: number): string =>
  FIXED_SEATS[`${row}/${seat}`]?.seat ?? uuidV5(`seat:${row}:${seat}`);

/** Session seat id of that seat in the demo session. */
export const demoSessionSeatId = (row: number, seat: number): string =>
  FIXED_SEATS[`${row}/${seat}`]?.sessionSeat ?? uuidV5(`session-seat:${row}:${seat}`);
