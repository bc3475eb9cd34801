/** What the waiting room needs from the world: its Redis store and the session's seat counts (data access implements both). */

export interface WaitingRoomConfig {
  opensAt: Date;
  admissionRatePerSecond: number;
  holdWindowSeconds: number;
}

export interface WaitingRoomState extends WaitingRoomConfig {
  state: 'pre' | 'open';
  soldOut: boolean;
  openedAtMs: number | null;
  credit: number;
  lastTickMs: number | null;
}

export type JoinResult = { kind: 'none' | 'sold_out' | 'admitted' | 'early' } | { kind: 'queued'; place: number };

export interface RawStatus {
  config: WaitingRoomState | undefined;
  /** Joined before the opening (no place yet). */
  early: boolean;
  /** 0-based rank among the waiting, or null when not waiting. */
  rank: number | null;
  /** End of the admitted user's hold window (ms), or null. */
  admittedUntilMs: number | null;
  waiting: number;
  earlyCount: number;
  /** The user's place number in the queue (the drawn order, then arrival), or null when not waiting. */
  place: number | null;
}

export interface AdmitResult {
  admitted: Array<{ userId: string; joinedAtMs: number | null }>;
  abandoned: number;
  /** False when another ticker moved the session on since `lastTickMs` was read (nothing was done). */
  applied: boolean;
  stillWaiting: number;
  /** Place number of the first one still waiting, or null when nobody waits. */
  headPlace: number | null;
}

export interface WaitingRoomStore {
  /** The pub/sub channel status updates go out on. */
  readonly updatesChannel: string;
  configure(sessionId: string, config: WaitingRoomConfig): Promise<void>;
  remove(sessionId: string): Promise<boolean>;
  config(sessionId: string): Promise<WaitingRoomState | undefined>;
  isOn(sessionId: string): Promise<boolean>;
  earlyCount(sessionId: string): Promise<number>;
  sessions(): Promise<string[]>;
  forget(sessionId: string): Promise<void>;
  join(sessionId: string, userId: string, nowMs: number): Promise<JoinResult>;
  status(sessionId: string, userId: string): Promise<RawStatus>;
  earlyJoiners(sessionId: string): Promise<string[]>;
  open(sessionId: string, order: string[], nowMs: number): Promise<number>;
  admit(
    sessionId: string,
    input: { nowMs: number; wanted: number; lastTickMs: number | null; credit: number; holdMs: number; slots: number },
  ): Promise<AdmitResult>;
  markHeld(sessionId: string, userId: string): Promise<void>;
  sellOut(sessionId: string): Promise<number>;
  admittedCount(sessionId: string): Promise<number>;
  publish(message: string): Promise<void>;
  lead(instanceId: string, leaseMs: number): Promise<boolean>;
  resign(instanceId: string): Promise<void>;
}

export interface SeatCounts {
  available: number;
  reserved: number;
  sold: number;
}

export interface SeatMapCounts {
  counts(sessionId: string): Promise<SeatCounts>;
  /** Forget a session's cached counts (its waiting room closed). */
  forget(sessionId: string): void;
}
