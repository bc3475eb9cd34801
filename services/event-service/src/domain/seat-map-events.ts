/**
 * The live seat map's Server-Sent Events, as bytes: each is encoded once and the same Buffer is written to every
 * subscriber. `id` is the version, so a client's Last-Event-ID names the last change it has.
 */
import type { SeatStateChange } from './seat-changes';

/** A comment line: keeps idle connections open through proxies; clients ignore it. */
export const HEARTBEAT_FRAME = Buffer.from(':\n\n');

/** The `seats` event of one stream entry: `{version, seats: [{session_seat_id, status, reserved_until, version}]}`. */
export function seatsFrame(version: number, changes: SeatStateChange[]): Buffer {
  const seats = changes.map((change) => ({ ...change, version }));
  return Buffer.from(`id: ${version}\nevent: seats\ndata: ${JSON.stringify({ version, seats })}\n\n`);
}

/** The `snapshot` event: the seat map's JSON (as the renderer writes it, one line) with `version` first. */
export function snapshotFrame(version: number, mapJson: string): Buffer {
  return Buffer.from(`id: ${version}\nevent: snapshot\ndata: {"version":${version},${mapJson.slice(1)}\n\n`);
}
