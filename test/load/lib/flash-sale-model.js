'use strict';
/**
 * How flash-sale buyers choose seats. Pure and seeded; unit-tested in test/load/flash-sale-model.test.ts.
 *
 * Buyers share one view of which seats are taken, fed by what real buyers would see: their own 201s and
 * the seats a 409 SEATS_UNAVAILABLE names (as if every buyer had a perfectly fresh seat map). Each buyer
 * wants 1-4 seats, picks a row with a probability that falls off geometrically from the front row
 * (row weight ROW_DECAY^row), aims near the middle of that row and takes the free seats nearest to it.
 */

const ROW_DECAY = 0.85;
/** Share of buyers wanting 1, 2, 3 and 4 seats. */
const PARTY_SIZES = [
  [1, 0.25],
  [2, 0.45],
  [3, 0.1],
  [4, 0.2],
];

/** Small, fast, seedable PRNG (mulberry32); returns floats in [0, 1). */
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function partySize(rng) {
  let roll = rng();
  for (const [size, share] of PARTY_SIZES) {
    if (roll < share) return size;
    roll -= share;
  }
  return PARTY_SIZES[PARTY_SIZES.length - 1][0];
}

/** Standard normal variate (Box-Muller). */
function gaussian(rng) {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

class SeatView {
  /** @param {Array<Array<string>>} rows session seat ids per row, front row first, in seat order. */
  constructor(rows) {
    this.rows = rows.map((ids) => ({ ids, free: new Set(ids) }));
    this.rowOf = new Map();
    rows.forEach((ids, row) => ids.forEach((id) => this.rowOf.set(id, row)));
    this.freeCount = this.rowOf.size;
  }

  markTaken(ids) {
    for (const id of ids) {
      const row = this.rowOf.get(id);
      if (row !== undefined && this.rows[row].free.delete(id)) this.freeCount -= 1;
    }
  }

  isFree(id) {
    const row = this.rowOf.get(id);
    return row !== undefined && this.rows[row].free.has(id);
  }

  /** Up to `wanted` free seats of one row, chosen as described above; [] when nothing is free. */
  pick(wanted, rng) {
    if (this.freeCount === 0) return [];
    let count = wanted;
    let eligible = this.rows.map((row, index) => ({ row, index })).filter(({ row }) => row.free.size >= count);
    if (eligible.length === 0) {
      count = Math.max(...this.rows.map((row) => row.free.size));
      eligible = this.rows.map((row, index) => ({ row, index })).filter(({ row }) => row.free.size >= count);
    }
    const weights = eligible.map(({ index }) => ROW_DECAY ** index);
    let roll = rng() * weights.reduce((sum, weight) => sum + weight, 0);
    let chosen = eligible[eligible.length - 1].row;
    for (let i = 0; i < eligible.length; i++) {
      if (roll < weights[i]) {
        chosen = eligible[i].row;
        break;
      }
      roll -= weights[i];
    }
    const width = chosen.ids.length;
    const aim = (width - 1) / 2 + gaussian(rng) * (width / 6);
    return chosen.ids
      .map((id, position) => ({ id, distance: Math.abs(position - aim) }))
      .filter(({ id }) => chosen.free.has(id))
      .sort((a, b) => a.distance - b.distance)
      .slice(0, count)
      .map(({ id }) => id);
  }
}

module.exports = { SeatView, mulberry32, partySize, ROW_DECAY, PARTY_SIZES };
