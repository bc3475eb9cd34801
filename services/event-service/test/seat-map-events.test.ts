import { compareEntryIds, entryIdOfVersion, versionOfEntryId } from '../src/data-access/seat-change-stream';
import { resumable } from '../src/domain/live-seat-map';
import { seatsFrame, snapshotFrame } from '../src/domain/seat-map-events';
import { createSseParser, type SseEvent } from '../../web-app/src/client/sse-parser';

const parse = (bytes: Buffer): SseEvent[] => {
  const events: SseEvent[] = [];
  createSseParser((event) => events.push(event)).push(bytes.toString('utf8'));
  return events;
};

describe('live seat map versions and events', () => {
  test('when a stream entry id becomes a version, then Last-Event-ID gives the same entry back and order is kept', () => {
    const id = '1795991679214-7';
    const version = versionOfEntryId(id);
    expect(version).toBe(1795991679214007);
    expect(entryIdOfVersion(String(version))).toBe(id);
    expect(versionOfEntryId('1795991679214-8')).toBeGreaterThan(version);
    expect(versionOfEntryId('1795991679215-0')).toBeGreaterThan(versionOfEntryId('1795991679214-999'));
    expect(compareEntryIds('1795991679214-10', '1795991679214-9')).toBeGreaterThan(0);
    expect(compareEntryIds('5-0', '5-0')).toBe(0);
  });

  test('when over 999 changes share a millisecond, then they share the last version (a resume repeats them, harmlessly)', () => {
    expect(versionOfEntryId('1795991679214-1500')).toBe(1795991679214999);
    expect(entryIdOfVersion('1795991679214999')).toBe('1795991679214-999');
  });

  test('when Last-Event-ID is not a version, then it names no entry (the client gets a snapshot)', () => {
    for (const value of ['', 'abc', '1-2', '-5', '12345678901234567890', '1e9']) expect(entryIdOfVersion(value)).toBeUndefined();
  });

  test('when a change is encoded, then an SSE parser reads one seats event with the version as id and on every seat', () => {
    const [event] = parse(seatsFrame(42, [{ session_seat_id: 's1', status: 'reserved', reserved_until: '2026-01-01T00:00:00.000Z' }]));
    expect(event).toEqual({ event: 'seats', id: '42', data: expect.any(String) });
    expect(JSON.parse(event.data)).toEqual({
      version: 42,
      seats: [{ session_seat_id: 's1', status: 'reserved', reserved_until: '2026-01-01T00:00:00.000Z', version: 42 }],
    });
  });

  test('when a map is encoded as a snapshot, then it is the map body with its version', () => {
    const map = JSON.stringify({ session_id: 'x', hall_id: 'h', seats: [{ session_seat_id: 's1', status: 'available' }] });
    const [event] = parse(snapshotFrame(7, map));
    expect(event.event).toBe('snapshot');
    expect(event.id).toBe('7');
    expect(JSON.parse(event.data)).toEqual({ version: 7, ...JSON.parse(map) });
  });

  test('when a client resumes, then it gets only changes if the stream still holds every one after its id', () => {
    const bounds = { exists: true, first: '100-0', last: '200-0', maxDeleted: '0-0' };
    expect(resumable('150-0', bounds, compareEntryIds)).toBe(true);
    expect(resumable('100-0', bounds, compareEntryIds)).toBe(true);
    expect(resumable('200-0', bounds, compareEntryIds)).toBe(true);
    expect(resumable('99-5', bounds, compareEntryIds)).toBe(false); // entries before 100-0 may have been trimmed
    expect(resumable('250-0', bounds, compareEntryIds)).toBe(false); // newer than the stream: not this stream's id
    expect(resumable('150-0', { ...bounds, maxDeleted: '160-0' }, compareEntryIds)).toBe(false);
    expect(resumable('150-0', { exists: false, last: '0-0', maxDeleted: '0-0' }, compareEntryIds)).toBe(false);
    // Everything trimmed: only a client that had the newest change can resume.
    expect(resumable('200-0', { exists: true, last: '200-0', maxDeleted: '0-0' }, compareEntryIds)).toBe(true);
    expect(resumable('150-0', { exists: true, last: '200-0', maxDeleted: '0-0' }, compareEntryIds)).toBe(false);
  });
});
