'use strict';
/**
 * Reading seat maps cheaply in the load generator, and measuring how stale they are. Pure; unit-tested in
 * test/load/seat-map.test.ts.
 *
 * A 20,000-seat map is megabytes of JSON; parsing every copy 16 clients fetch would cost the load
 * generator more CPU than the service spends producing it. `takenSeatIds` scans the text for the
 * non-available statuses only and reads the session_seat_id of the same object; `crossCheck` compares it
 * with a full JSON.parse so a change of the map's format is noticed instead of silently mis-measured.
 */

const STATUS_MARKERS = ['"status":"reserved"', '"status":"sold"'];
const ID_KEY = '"session_seat_id":"';

/**
 * Ids of the seats whose status is not "available", from the compact JSON text of a seat map.
 * Returns undefined when the text does not look like the expected format (the caller falls back to
 * takenSeatIdsByParsing).
 */
function takenSeatIds(text) {
  const taken = new Set();
  for (const marker of STATUS_MARKERS) {
    let at = text.indexOf(marker);
    while (at !== -1) {
      const objectStart = text.lastIndexOf('{', at);
      const key = text.lastIndexOf(ID_KEY, at);
      if (key === -1 || key < objectStart) return undefined;
      const idStart = key + ID_KEY.length;
      const idEnd = text.indexOf('"', idStart);
      if (idEnd === -1 || idEnd - idStart > 64) return undefined;
      taken.add(text.slice(idStart, idEnd));
      at = text.indexOf(marker, at + marker.length);
    }
  }
  return taken;
}

/** The same set from a full parse: every object with session_seat_id and a status other than available. */
function takenSeatIdsByParsing(text) {
  const taken = new Set();
  const walk = (value) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (value && typeof value === 'object') {
      if (typeof value.session_seat_id === 'string' && typeof value.status === 'string') {
        if (value.status !== 'available') taken.add(value.session_seat_id);
        return;
      }
      for (const item of Object.values(value)) walk(item);
    }
  };
  walk(JSON.parse(text));
  return taken;
}

/** Counts seats in a map (any object with session_seat_id), via a full parse. */
function seatCount(text) {
  let count = 0;
  const walk = (value) => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value && typeof value === 'object') {
      if (typeof value.session_seat_id === 'string') count += 1;
      else for (const item of Object.values(value)) walk(item);
    }
  };
  walk(JSON.parse(text));
  return count;
}

/** True when the fast scan and the full parse agree on this text. */
function crossCheck(text) {
  const fast = takenSeatIds(text);
  if (!fast) return false;
  const full = takenSeatIdsByParsing(text);
  if (fast.size !== full.size) return false;
  for (const id of full) if (!fast.has(id)) return false;
  return true;
}

/**
 * How long after a successful reservation a seat map can still show the seat as available.
 *
 * A reservation is known at `t201` (its 201 arrived). An observation is a map a client holds: the request
 * for it started at `tStart` and the answer (200, or 304 confirming the client's copy) arrived at `tEnd`.
 * Any observation that started after t201 must show the seat taken; if one does not, the map was stale
 * for at least tEnd - t201. A reservation's staleness is the largest such value (0 when every later map
 * showed it). Reservations no map started after are "unobserved" and left out.
 */
class StalenessTracker {
  constructor() {
    this.seatIds = [];
    this.t201 = [];
    this.staleness = [];
    this.observed = [];
    /** Reservations not yet shown taken by a map requested after their 201. */
    this.open = new Set();
    this.observations = 0;
    this.staleObservations = 0;
  }

  addReservation(seatId, t201) {
    this.open.add(this.seatIds.length);
    this.seatIds.push(seatId);
    this.t201.push(t201);
    this.staleness.push(0);
    this.observed.push(false);
  }

  /**
   * `taken` is the set of non-available seat ids in the map the client holds. Once a map requested after
   * a reservation's 201 shows its seat taken, the reservation is settled: the seats of this scenario are
   * never released, and later maps of the same event API are never older, so only open reservations are
   * checked (which keeps each observation cheap for the load generator).
   */
  addObservation(tStart, tEnd, taken) {
    this.observations += 1;
    let stale = false;
    for (const i of this.open) {
      if (this.t201[i] >= tStart) continue;
      this.observed[i] = true;
      if (taken.has(this.seatIds[i])) {
        this.open.delete(i);
      } else {
        stale = true;
        this.staleness[i] = Math.max(this.staleness[i], tEnd - this.t201[i]);
      }
    }
    if (stale) this.staleObservations += 1;
  }

  /** Staleness in ms of every observed reservation, plus counts. */
  result() {
    const values = [];
    let unobserved = 0;
    for (let i = 0; i < this.seatIds.length; i++) {
      if (this.observed[i]) values.push(this.staleness[i]);
      else unobserved += 1;
    }
    return { values, unobserved, observations: this.observations, staleObservations: this.staleObservations };
  }
}

module.exports = { takenSeatIds, takenSeatIdsByParsing, seatCount, crossCheck, StalenessTracker };
