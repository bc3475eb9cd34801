import type { Logger } from '@ticketing/platform';
import type { SeatMapCounts } from './waiting-room-ports';
import type { WaitingRoomState, WaitingRoomStore } from './waiting-room-ports';
import { admissionSlots, admissionsEarned, fairStartOrder } from './waiting-room-rules';

/** What one pass of the admission ticker measures; prom-client at the edge. */
export interface WaitingRoomMetrics {
  admitted(count: number): void;
  waited(seconds: number): void;
  abandoned(count: number): void;
  /** Buyers waiting across every waiting room after this pass (early joiners included). */
  queueLength(count: number): void;
  soldOutNotified(count: number): void;
}

/** What the ticker announces per session; every API process relays it to the streams it serves. */
export interface QueueUpdate {
  session_id: string;
  kind: 'opened' | 'progress' | 'sold_out';
  /** Place number of the first buyer still waiting (position = place − head + 1), or null when nobody waits. */
  head: number | null;
  waiting: number;
}

export interface AdmissionTickDeps {
  store: WaitingRoomStore;
  seatCounts: SeatMapCounts;
  metrics: WaitingRoomMetrics;
  logger: Logger;
  now?: () => number;
}

export interface AdmissionTickOptions {
  /** How often a session's seat map is asked whether it sold out. */
  soldOutCheckMs: number;
  /** Progress is announced at most this often per session (every stream writes each announcement). */
  progressEveryMs?: number;
}

/** Per-process memory of the ticker: when each session's seats were last counted, and what they were. */
export class AdmissionTicker {
  private readonly lastCount = new Map<string, { atMs: number; available: number }>();
  /** Per session: when progress was last announced, and whether admissions were made since. */
  private readonly progress = new Map<string, { announcedAtMs: number; unannounced: boolean }>();

  constructor(
    private readonly deps: AdmissionTickDeps,
    private readonly options: AdmissionTickOptions,
  ) {}

  /** One pass over every waiting room: open the due ones, sell out the sold ones, admit at each room's rate. */
  async tick(): Promise<void> {
    let waiting = 0;
    for (const sessionId of await this.deps.store.sessions()) {
      try {
        waiting += await this.tickSession(sessionId);
      } catch (error) {
        this.deps.logger.warn({ err: error, session_id: sessionId }, 'Waiting room tick failed');
      }
    }
    this.deps.metrics.queueLength(waiting);
  }

  private now() {
    return (this.deps.now ?? Date.now)();
  }

  private async tickSession(sessionId: string): Promise<number> {
    const { store } = this.deps;
    const config = await store.config(sessionId);
    if (!config || config.soldOut) {
      // Closed by its organizer, or sold out: nothing left to admit.
      await store.forget(sessionId);
      this.lastCount.delete(sessionId);
      this.progress.delete(sessionId);
      this.deps.seatCounts.forget(sessionId);
      return 0;
    }
    const now = this.now();
    if (config.state === 'pre') {
      if (now < config.opensAt.getTime()) return store.earlyCount(sessionId);
      return this.open(sessionId, now);
    }
    const available = await this.availableSeats(sessionId, now);
    if (available === 'sold_out') return this.sellOut(sessionId);
    return this.admit(sessionId, config, now, available);
  }

  /** The fair start: everyone who joined before the opening gets a place in a freshly drawn random order. */
  private async open(sessionId: string, now: number): Promise<number> {
    const order = fairStartOrder(await this.deps.store.earlyJoiners(sessionId));
    const queued = await this.deps.store.open(sessionId, order, now);
    this.deps.logger.info({ session_id: sessionId, queued }, 'Waiting room opened');
    await this.announce({ session_id: sessionId, kind: 'opened', head: queued > 0 ? 1 : null, waiting: queued });
    return queued;
  }

  private async sellOut(sessionId: string): Promise<number> {
    const told = await this.deps.store.sellOut(sessionId);
    if (told >= 0) {
      this.deps.metrics.soldOutNotified(told);
      this.deps.logger.info({ session_id: sessionId, waiting: told }, 'Session sold out: everyone waiting told');
      await this.announce({ session_id: sessionId, kind: 'sold_out', head: null, waiting: 0 });
    }
    return 0;
  }

  private async admit(sessionId: string, config: WaitingRoomState, now: number, availableSeats: number | undefined): Promise<number> {
    const earned = admissionsEarned(config, now, config.admissionRatePerSecond);
    // While every seat is on hold, admitting more would only send buyers to a full map; holds that expire come back.
    const wanted = availableSeats === 0 ? 0 : earned.admit;
    const result = await this.deps.store.admit(sessionId, {
      nowMs: now,
      wanted,
      lastTickMs: config.lastTickMs,
      credit: earned.credit,
      holdMs: config.holdWindowSeconds * 1000,
      slots: admissionSlots(config.admissionRatePerSecond, config.holdWindowSeconds),
    });
    if (!result.applied) return result.stillWaiting;
    const { metrics } = this.deps;
    metrics.admitted(result.admitted.length);
    metrics.abandoned(result.abandoned);
    const openedAt = config.openedAtMs ?? now;
    for (const { joinedAtMs } of result.admitted) metrics.waited((now - Math.max(joinedAtMs ?? openedAt, openedAt)) / 1000);
    // Announced at most once per progressEveryMs; admissions made in between go out with the next announcement.
    const progress = this.progress.get(sessionId) ?? { announcedAtMs: 0, unannounced: false };
    progress.unannounced ||= result.admitted.length > 0;
    if (progress.unannounced && now - progress.announcedAtMs >= (this.options.progressEveryMs ?? 1_000)) {
      Object.assign(progress, { announcedAtMs: now, unannounced: false });
      await this.announce({ session_id: sessionId, kind: 'progress', head: result.headPlace, waiting: result.stillWaiting });
    }
    this.progress.set(sessionId, progress);
    return result.stillWaiting;
  }

  /** Seats on sale now (undefined when the event service could not say), or 'sold_out' when every seat is sold. */
  private async availableSeats(sessionId: string, now: number): Promise<number | 'sold_out' | undefined> {
    const last = this.lastCount.get(sessionId);
    // With no seat left on sale, every sale of a held seat may be the last: ask every tick (a 304 while unchanged).
    const interval = last?.available === 0 ? 0 : this.options.soldOutCheckMs;
    if (last && now - last.atMs < interval) return last.available;
    try {
      const counts = await this.deps.seatCounts.counts(sessionId);
      if (counts.available === 0 && counts.reserved === 0) return 'sold_out';
      this.lastCount.set(sessionId, { atMs: now, available: counts.available });
      return counts.available;
    } catch (error) {
      // Keep admitting on the last count: the event service being away must not freeze the queue.
      this.deps.logger.warn({ err: error, session_id: sessionId }, 'Seat counts unavailable; admitting without them');
      return last?.available;
    }
  }

  private async announce(update: QueueUpdate): Promise<void> {
    await this.deps.store.publish(JSON.stringify(update));
  }
}
