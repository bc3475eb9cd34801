import { createSseParser, type SseEvent } from '../src/client/sse-parser';
import { parseSeatChanges, parseSnapshot, SeatStatusBoard, type SeatMap } from '../src/client/seat-map-model';

const SEAT_A = '11111111-1111-4111-8111-111111111111';
const SEAT_B = '22222222-2222-4222-8222-222222222222';

function parseAll(chunks: string[]) {
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.push(chunk);
  return { events, lastEventId: parser.lastEventId };
}

function mapOf(version: number): SeatMap {
  return {
    session_id: 's',
    hall_id: 'h',
    version,
    seats: [SEAT_A, SEAT_B].map((id, index) => ({
      session_seat_id: id,
      seat_id: `seat-${index}`,
      row_number: '1',
      seat_number: String(index + 1),
      price: 10,
      status: 'available',
      reserved_until: null,
    })),
  };
}

describe('the live seat map stream client', () => {
  test('when a snapshot and a seats event arrive split at arbitrary points, then each event comes out whole with its id', () => {
    const snapshot = JSON.stringify(mapOf(7));
    const change = JSON.stringify({ session_seat_id: SEAT_A, status: 'reserved', reserved_until: '2026-11-29T20:00:00Z', version: 8 });
    const stream = `: hello\n\nid: 7\nevent: snapshot\ndata: ${snapshot}\n\nid: 8\nevent: seats\ndata: ${change}\n\n`;
    for (const size of [1, 3, 17, stream.length]) {
      const chunks = stream.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      const { events, lastEventId } = parseAll(chunks);
      expect(events.map((event) => [event.event, event.id])).toEqual([
        ['snapshot', '7'],
        ['seats', '8'],
      ]);
      expect(parseSnapshot(events[0].data)?.version).toBe(7);
      expect(lastEventId).toBe('8');
    }
  });

  test('when lines end in CRLF or CR, data spans several lines and heartbeats are comments, then the spec’s parsing holds', () => {
    const { events } = parseAll(['event: seats\r\ndata: [1,\r', '\ndata: 2]\r\r:heartbeat\n\n', 'data:no-space\n\n']);
    expect(events).toEqual([
      { event: 'seats', data: '[1,\n2]' },
      { event: 'message', data: 'no-space' },
    ]);
  });

  test('when a seats event carries one change, an array of them, or a wrapper, then all shapes give the same changes and junk is dropped', () => {
    const one = { session_seat_id: SEAT_A, status: 'sold', reserved_until: null, version: 9 };
    expect(parseSeatChanges(JSON.stringify(one))).toEqual([one]);
    expect(parseSeatChanges(JSON.stringify([one, { session_seat_id: SEAT_B, status: 'weird' }, null]))).toEqual([one]);
    expect(parseSeatChanges(JSON.stringify({ version: 9, seats: [{ session_seat_id: SEAT_A, status: 'sold' }] }))).toEqual([one]);
    expect(parseSeatChanges('not json')).toEqual([]);
    expect(parseSnapshot('{"seats": 3}')).toBeUndefined();
  });

  test('when a change older than the snapshot or than the last change arrives, then it does not roll the seat back', () => {
    const board = new SeatStatusBoard();
    board.load(mapOf(10));
    expect(board.apply([{ session_seat_id: SEAT_A, status: 'reserved', reserved_until: null, version: 9 }])).toEqual([]);
    expect(board.status(SEAT_A)).toBe('available');
    expect(board.apply([{ session_seat_id: SEAT_A, status: 'sold', reserved_until: null, version: 12 }])).toHaveLength(1);
    expect(board.apply([{ session_seat_id: SEAT_A, status: 'available', reserved_until: null, version: 11 }])).toEqual([]);
    expect(board.status(SEAT_A)).toBe('sold');
    expect(board.counts()).toEqual({ available: 1, reserved: 0, sold: 1 });
  });

  test('when a polled map changes, then only the seats whose status changed are reported', () => {
    const board = new SeatStatusBoard();
    const map = mapOf(1);
    board.load(map);
    map.seats[1].status = 'reserved';
    expect(board.load(map)).toEqual([SEAT_B]);
  });
});
