/* eslint-disable @typescript-eslint/no-require-imports */
const { SeatView, mulberry32, partySize } = require('./lib/flash-sale-model.js');

const rows = (count: number, width: number) =>
  Array.from({ length: count }, (_, row) => Array.from({ length: width }, (_, seat) => `r${row + 1}s${seat + 1}`));

describe('flash-sale buyers', () => {
  it('are reproducible for a seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });

  it('want one to four seats, pairs most often', () => {
    const rng = mulberry32(1);
    const sizes = Array.from({ length: 10_000 }, () => partySize(rng));
    expect(new Set(sizes)).toEqual(new Set([1, 2, 3, 4]));
    const pairs = sizes.filter((size: number) => size === 2).length / sizes.length;
    expect(pairs).toBeGreaterThan(0.4);
    expect(pairs).toBeLessThan(0.5);
  });

  it('prefer the front rows and pick free seats of one row', () => {
    const view = new SeatView(rows(20, 50));
    const rng = mulberry32(3);
    const rowCounts = new Array(20).fill(0);
    for (let i = 0; i < 5_000; i++) {
      const picked: string[] = view.pick(3, rng);
      expect(picked).toHaveLength(3);
      const row = new Set(picked.map((id) => id.split('s')[0]));
      expect(row.size).toBe(1);
      rowCounts[Number([...row][0].slice(1)) - 1] += 1;
    }
    expect(rowCounts[0]).toBeGreaterThan(rowCounts[4]);
    expect(rowCounts[4]).toBeGreaterThan(rowCounts[19]);
  });

  it('never pick a taken seat, settle for fewer when rows run low, and see the sell-out', () => {
    const view = new SeatView(rows(2, 3));
    view.markTaken(['r1s1', 'r1s2', 'r2s1', 'unknown']);
    expect(view.freeCount).toBe(3);
    const rng = mulberry32(5);
    const picked = view.pick(4, rng);
    expect(picked).toHaveLength(2);
    expect(picked.every((id: string) => view.isFree(id))).toBe(true);
    view.markTaken(['r1s3', 'r2s2', 'r2s3']);
    expect(view.pick(1, rng)).toEqual([]);
  });
});
