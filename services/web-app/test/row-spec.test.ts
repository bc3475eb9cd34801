import { parseRowSpec } from '../src/client/row-spec';
import { rowsOf } from '../src/client/seat-map-model';
import { apiTargetFor } from '../src/server/api-routing';

describe('the organizer’s seat rows', () => {
  test('when rows are written as ranges and lists, then every seat is listed once in order', () => {
    const result = parseRowSpec('A 1-3\n# balcony\nBalcony: 5, 7-8\n\nC 10');
    expect(result).toEqual({
      seats: [
        { row_number: 'A', seat_number: '1' },
        { row_number: 'A', seat_number: '2' },
        { row_number: 'A', seat_number: '3' },
        { row_number: 'Balcony', seat_number: '5' },
        { row_number: 'Balcony', seat_number: '7' },
        { row_number: 'Balcony', seat_number: '8' },
        { row_number: 'C', seat_number: '10' },
      ],
    });
  });

  test('when a line is not a row, counts down or is empty overall, then the problem names the line', () => {
    expect(parseRowSpec('A 1-3\nB')).toEqual({ error: expect.stringMatching(/^line 2:/) });
    expect(parseRowSpec('A 5-1')).toEqual({ error: expect.stringMatching(/^line 1: 5-1 counts down/) });
    expect(parseRowSpec('  \n# nothing')).toEqual({ error: expect.stringMatching(/no seats/) });
  });

  test('when seats come in any order, then rows and seats are drawn in natural order (2 before 10)', () => {
    const seat = (row: string, number: string) => ({ session_seat_id: `${row}${number}`, seat_id: '', row_number: row, seat_number: number, price: 1, status: 'available' as const, reserved_until: null });
    const rows = rowsOf([seat('10', '2'), seat('2', '10'), seat('2', '9')]);
    expect(rows.map((row) => [row.row, row.seats.map((s) => s.seat_number)])).toEqual([
      ['2', ['9', '10']],
      ['10', ['2']],
    ]);
  });
});

describe('the web server’s API routing', () => {
  test('when a path names a booking resource, then it goes to the booking API; other API paths go to the event API', () => {
    expect(apiTargetFor('/api/v1/reservations/abc/confirm')).toBe('booking');
    expect(apiTargetFor('/api/v1/tickets/user/x')).toBe('booking');
    expect(apiTargetFor('/api/v1/check-ins')).toBe('booking');
    expect(apiTargetFor('/api/v1/sessions/x/seat-map/stream')).toBe('event');
    expect(apiTargetFor('/api/v1/sessions/x/queue')).toBe('booking');
    expect(apiTargetFor('/api/v1/sessions/x/waiting-room')).toBe('booking');
    expect(apiTargetFor('/api/v1/queue/abc/stream')).toBe('booking');
    expect(apiTargetFor('/api/v1/sessions/x/queued-things')).toBe('event');
    expect(apiTargetFor('/api/v1/events')).toBe('event');
    expect(apiTargetFor('/assets/index.js')).toBeUndefined();
    expect(apiTargetFor('/api/internal/sessions/x/pricing')).toBeUndefined();
  });
});
