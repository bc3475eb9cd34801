/**
 * What the live seat map (live-seat-map.ts) works with: the change streams (Redis Streams in production), the
 * subscribers' sinks (HTTP responses), its limits and its metrics; and the rule deciding whether a resume is
 * possible.
 */
import type { SeatStateChange } from './seat-changes';

export type EntryId = string;

export interface StoredChanges {
  id: EntryId;
  changes: SeatStateChange[];
  publishedAt: number;
}

export interface StreamBounds {
  /** Newest id ever added. */
  last: EntryId;
  /** Newest id deleted by XDEL. */
  maxDeleted: EntryId;
  /** Oldest id still kept (trimming removes from the front). */
  first?: EntryId;
  exists: boolean;
}

/** The change streams, as the live map needs them (Redis Streams in production). */
export interface ChangeStreams {
  bounds(sessionId: string): Promise<StreamBounds>;
  after(sessionId: string, after: EntryId, count: number): Promise<StoredChanges[]>;
  read(cursors: Map<string, EntryId>, blockMs: number, count: number): Promise<Map<string, StoredChanges[]>>;
  interrupt(): Promise<void>;
}

export interface EntryIds {
  compare(a: EntryId, b: EntryId): number;
  version(id: EntryId): number;
  fromVersion(lastEventId: string): EntryId | undefined;
}

/** Where a subscriber's bytes go (an HTTP response). */
export interface StreamSink {
  write(frame: Buffer): void;
  /** Bytes written but not yet taken by the client's socket. */
  buffered(): number;
  /** Calls `listener` each time the buffered bytes were fully sent. */
  onDrain(listener: () => void): void;
  onClose(listener: () => void): void;
  end(): void;
}

export interface LiveSeatMapSettings {
  maxSubscribers: number;
  bufferBytes: number;
  heartbeatMs: number;
  snapshotReuseMs?: number;
  /** Longest catch-up sent on subscribe; beyond, the subscriber gets a snapshot instead. */
  maxCatchUp?: number;
}

export interface LiveSeatMapObserver {
  sent(kind: 'snapshot' | 'seats', subscribers: number): void;
  lag(seconds: number): void;
  dropped(reason: 'slow'): void;
  readFailed(error: unknown): void;
}

/**
 * Whether every change after `from` is still in the stream: the client saw the oldest kept entry (or the newest
 * one). Otherwise some may have been trimmed, or the stream is gone or not the one the id came from.
 */
export function resumable(from: EntryId, bounds: StreamBounds, compare: EntryIds['compare']): boolean {
  if (!bounds.exists) return false;
  const toLast = compare(from, bounds.last);
  if (toLast > 0 || compare(from, bounds.maxDeleted) < 0) return false;
  return toLast === 0 || (bounds.first !== undefined && compare(from, bounds.first) >= 0);
}

