/* eslint-disable @typescript-eslint/no-require-imports */
const { takenSeatIds, takenSeatIdsByParsing, crossCheck, seatCount, StalenessTracker } = require('./lib/seat-map.js');

const seat = (id: string, status: string) =>
  `{"session_seat_id":"${id}","seat_id":"s-${id}","row_number":"1","seat_number":"${id}","price":40.00,"status":"${status}","reserved_until":${status === 'reserved' ? '"2030-01-01T00:00:00.000Z"' : 'null'}}`;
const map = (seats: Array<[string, string]>) => `{"session_id":"x","hall_id":"y","seats":[${seats.map(([id, status]) => seat(id, status)).join(',')}]}`;

describe('seat map reading', () => {
  const text = map([
    ['a', 'available'],
    ['b', 'reserved'],
    ['c', 'sold'],
    ['d', 'available'],
    ['e', 'reserved'],
  ]);

  it('finds the taken seats by scanning, in agreement with a full parse', () => {
    expect([...takenSeatIds(text)].sort()).toEqual(['b', 'c', 'e']);
    expect([...takenSeatIdsByParsing(text)].sort()).toEqual(['b', 'c', 'e']);
    expect(crossCheck(text)).toBe(true);
    expect(seatCount(text)).toBe(5);
  });

  it('notices a format it cannot scan (the id after the status)', () => {
    const reordered = '{"seats":[{"status":"reserved","session_seat_id":"b"},{"session_seat_id":"c","status":"available"}]}';
    expect(crossCheck(reordered)).toBe(false);
    expect([...takenSeatIdsByParsing(reordered)]).toEqual(['b']);
  });
});

describe('staleness', () => {
  it('is zero when every map that started after the 201 shows the seat', () => {
    const tracker = new StalenessTracker();
    tracker.addReservation('b', 100);
    tracker.addObservation(90, 130, new Set()); // started before the 201: says nothing
    tracker.addObservation(101, 140, new Set(['b']));
    expect(tracker.result()).toMatchObject({ values: [0], unobserved: 0, observations: 2, staleObservations: 0 });
  });

  it('is the time until the last map that still lacked the seat arrived', () => {
    const tracker = new StalenessTracker();
    tracker.addReservation('b', 100);
    tracker.addReservation('c', 500);
    tracker.addObservation(150, 300, new Set()); // stale for b: 200 ms
    tracker.addObservation(400, 1_350, new Set()); // stale for b: 1250 ms
    tracker.addObservation(1_400, 1_450, new Set(['b'])); // fresh for b; c was never observed after its 201? it was: stale
    const result = tracker.result();
    expect(result.values).toEqual([1_250, 950]);
    expect(result.staleObservations).toBe(3);
  });

  it('leaves out reservations no map was requested after', () => {
    const tracker = new StalenessTracker();
    tracker.addReservation('b', 100);
    tracker.addObservation(50, 120, new Set());
    expect(tracker.result()).toMatchObject({ values: [], unobserved: 1 });
  });
});
