import type { ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import type { Logger } from '@ticketing/platform';
import type { QueueUpdate } from '../../domain/admission-tick';
import { estimatedWaitSeconds } from '../../domain/waiting-room-rules';
import { readStatus, type QueueStatus, type WaitingRoomDeps } from '../../domain/waiting-room';

interface QueueStream {
  userId: string;
  sessionId: string;
  /** The buyer's place number while queued (positions are computed from the head in each update). */
  place: number | null;
  last: QueueStatus;
  out: ServerResponse;
}

const FINAL: ReadonlySet<QueueStatus['status']> = new Set(['ADMITTED', 'SOLD_OUT', 'NOT_IN_QUEUE']);
const KEEPALIVE_MS = 15_000;

/**
 * Server-sent events of queue status for the web app. One Redis subscription per process: the ticker publishes
 * each session's progress (the head place), and each stream's position is computed from it without a Redis
 * read; only a stream whose buyer was just admitted, or whose place was drawn at the opening, reads its status.
 * The stream ends once the status is final (ADMITTED with the token, SOLD_OUT, NOT_IN_QUEUE).
 */
export class QueueStreams {
  private readonly bySession = new Map<string, Set<QueueStream>>();
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly deps: WaitingRoomDeps,
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    subscriber.on('message', (_channel: string, message: string) => this.onUpdate(message));
    this.keepalive = setInterval(() => this.forEach((stream) => stream.out.write(': keepalive\n\n')), KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** Subscribes without waiting: while Redis is away the subscription waits in the connection's offline queue. */
  start(): void {
    this.subscriber.on('error', (error: Error) => this.logger.debug({ err: error }, 'Queue update subscriber error'));
    this.subscriber.subscribe(this.channel).catch((error: unknown) => this.logger.warn({ err: error }, 'Queue update subscription failed'));
  }

  /** Answers the request with the stream: the current status at once, then every change. */
  open(ctx: Context, first: QueueStatus, userId: string): void {
    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache, no-transform');
    ctx.set('X-Accel-Buffering', 'no');
    ctx.req.socket.setNoDelay(true);
    // Written to the response directly (not a body stream Koa pipes): a buyer closing the tab is not an error.
    ctx.respond = false;
    const out = ctx.res;
    out.flushHeaders();
    const stream: QueueStream = { userId, sessionId: first.session_id, place: null, last: first, out };
    if (this.send(stream, first)) return;
    this.placeOf(stream).catch(() => undefined);
    let streams = this.bySession.get(stream.sessionId);
    if (!streams) this.bySession.set(stream.sessionId, (streams = new Set()));
    streams.add(stream);
    out.once('close', () => this.drop(stream));
  }

  get size(): number {
    let count = 0;
    for (const streams of this.bySession.values()) count += streams.size;
    return count;
  }

  async close(): Promise<void> {
    clearInterval(this.keepalive);
    this.forEach((stream) => stream.out.end());
    this.bySession.clear();
    await this.subscriber.quit().catch(() => undefined);
    this.subscriber.disconnect();
  }

  private forEach(visit: (stream: QueueStream) => void) {
    for (const streams of this.bySession.values()) for (const stream of streams) visit(stream);
  }

  private drop(stream: QueueStream) {
    const streams = this.bySession.get(stream.sessionId);
    streams?.delete(stream);
    if (streams?.size === 0) this.bySession.delete(stream.sessionId);
  }

  /** Writes one status event; true when it was final and the stream ended. */
  private send(stream: QueueStream, status: QueueStatus): boolean {
    stream.last = status;
    stream.out.write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
    if (!FINAL.has(status.status)) return false;
    stream.out.end();
    this.drop(stream);
    return true;
  }

  /** The place number behind the position just read (a queued buyer's place never changes). */
  private async placeOf(stream: QueueStream) {
    const raw = await this.deps.store.status(stream.sessionId, stream.userId);
    stream.place = raw.place;
  }

  private async refresh(stream: QueueStream) {
    try {
      const status = await readStatus(this.deps, stream.sessionId, stream.userId);
      if (!this.send(stream, status)) await this.placeOf(stream);
    } catch (error) {
      this.logger.warn({ err: error }, 'Queue stream refresh failed');
    }
  }

  private onUpdate(message: string) {
    let update: QueueUpdate;
    try {
      update = JSON.parse(message) as QueueUpdate;
    } catch {
      return;
    }
    const streams = this.bySession.get(update.session_id);
    if (!streams) return;
    for (const stream of [...streams]) {
      if (update.kind === 'sold_out') {
        this.send(stream, { ...stream.last, status: 'SOLD_OUT', position: null, ahead: null, estimated_wait_seconds: null, waiting: 0 });
      } else if (update.kind === 'progress' && stream.place !== null && update.head !== null && stream.place >= update.head) {
        const ahead = stream.place - update.head;
        const rate = stream.last.admission_rate_per_second;
        this.send(stream, { ...stream.last, position: ahead + 1, ahead, waiting: update.waiting, estimated_wait_seconds: estimatedWaitSeconds(ahead, rate) });
      } else {
        void this.refresh(stream);
      }
    }
  }
}
