export type SeatStatus = 'available' | 'reserved' | 'sold';

export interface MapSeat {
  session_seat_id: string;
  seat_id: string;
  row_number: string;
  seat_number: string;
  price: number;
  status: SeatStatus;
  reserved_until: string | null;
}

export interface SeatMap {
  session_id: string;
  hall_id: string;
  seats: MapSeat[];
  version?: number;
}

export interface SeatChange {
  session_seat_id: string;
  status: SeatStatus;
  reserved_until: string | null;
  version?: number;
}

const STATUSES = new Set<SeatStatus>(['available', 'reserved', 'sold']);

function isChange(value: unknown): value is SeatChange {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.session_seat_id === 'string' && STATUSES.has(record.status as SeatStatus);
}

/**
 * The changes carried by one `seats` event of the live stream: one change object, an array of them, or an
 * object wrapping them in `seats`/`changes`. Anything that is not a change is dropped, never thrown.
 */
export function parseSeatChanges(data: string): SeatChange[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return [];
  }
  const record = parsed as Record<string, unknown> | null;
  const list = Array.isArray(parsed)
    ? parsed
    : record && Array.isArray(record.seats)
      ? record.seats
      : record && Array.isArray(record.changes)
        ? record.changes
        : [parsed];
  const version = record && !Array.isArray(parsed) && typeof record.version === 'number' ? record.version : undefined;
  return list.filter(isChange).map((change) => ({
    session_seat_id: change.session_seat_id,
    status: change.status,
    reserved_until: change.reserved_until ?? null,
    ...(typeof change.version === 'number' ? { version: change.version } : version !== undefined ? { version } : {}),
  }));
}

/** The `snapshot` event: the seat-map body plus `version`; undefined when it is not one. */
export function parseSnapshot(data: string): SeatMap | undefined {
  try {
    const parsed = JSON.parse(data) as SeatMap;
    return Array.isArray(parsed?.seats) && typeof parsed.session_id === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seat statuses keyed by session seat id, with the version each was last changed at, so a change that arrives
 * late (older than what is shown, e.g. replayed after a snapshot) never rolls a seat back.
 */
export class SeatStatusBoard {
  private readonly seats = new Map<string, { status: SeatStatus; reserved_until: string | null; version: number }>();
  private baseVersion = -Infinity;

  /** Replaces everything; returns the ids whose status changed. */
  load(map: SeatMap): string[] {
    const changed: string[] = [];
    this.baseVersion = map.version ?? -Infinity;
    const seen = new Set<string>();
    for (const seat of map.seats) {
      seen.add(seat.session_seat_id);
      const before = this.seats.get(seat.session_seat_id);
      if (before && before.status !== seat.status) changed.push(seat.session_seat_id);
      this.seats.set(seat.session_seat_id, { status: seat.status, reserved_until: seat.reserved_until, version: this.baseVersion });
    }
    for (const id of [...this.seats.keys()]) if (!seen.has(id)) this.seats.delete(id);
    return changed;
  }

  /** Applies live changes; returns the ones that changed what is shown. */
  apply(changes: SeatChange[]): SeatChange[] {
    const applied: SeatChange[] = [];
    for (const change of changes) {
      const current = this.seats.get(change.session_seat_id);
      if (!current) continue;
      const version = change.version ?? Infinity;
      if (version <= current.version) continue;
      const statusChanged = current.status !== change.status;
      this.seats.set(change.session_seat_id, {
        status: change.status,
        reserved_until: change.reserved_until,
        version: change.version ?? current.version,
      });
      if (statusChanged) applied.push(change);
    }
    return applied;
  }

  status(id: string): SeatStatus | undefined {
    return this.seats.get(id)?.status;
  }

  counts(): Record<SeatStatus, number> {
    const counts: Record<SeatStatus, number> = { available: 0, reserved: 0, sold: 0 };
    for (const seat of this.seats.values()) counts[seat.status] += 1;
    return counts;
  }
}

/** Row and seat labels in the order people read them: "2" before "10", "A" before "B". */
export const naturalCompare = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' }).compare;

/** Seats grouped by row, rows and seats in natural order. */
export function rowsOf(seats: MapSeat[]): { row: string; seats: MapSeat[] }[] {
  const rows = new Map<string, MapSeat[]>();
  for (const seat of seats) {
    const row = rows.get(seat.row_number);
    if (row) row.push(seat);
    else rows.set(seat.row_number, [seat]);
  }
  return [...rows.entries()]
    .sort(([a], [b]) => naturalCompare(a, b))
    .map(([row, list]) => ({ row, seats: list.sort((a, b) => naturalCompare(a.seat_number, b.seat_number)) }));
}

/** Price tiers of a map: distinct prices, cheapest first; a seat's tier is its index here. */
export function priceTiers(seats: MapSeat[]): number[] {
  return [...new Set(seats.map((seat) => seat.price))].sort((a, b) => a - b);
}
