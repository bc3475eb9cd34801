import { identityHeaders } from './identity';
import { createSseParser } from './sse-parser';
import { parseSeatChanges, parseSnapshot, type SeatChange, type SeatMap } from './seat-map-model';

export interface LiveSeatMapHandlers {
  /** A whole map (first load, stream snapshot, or a changed map while polling). */
  onMap(map: SeatMap): void;
  /** Single seat changes from the stream. */
  onChanges(changes: SeatChange[]): void;
  /** How updates arrive now, for the page to show. */
  onMode(mode: 'live' | 'polling'): void;
}

/**
 * Poll every 250 ms: with the event API's 500 ms seat-map cache a taken seat shows within ~0.8 s; an unchanged
 * map costs a 304 without a body.
 */
export const POLL_INTERVAL_MS = 250;

/**
 * A followed stream is reopened WITHOUT Last-Event-ID this often (plus up to a minute, so pages spread out): the
 * fresh snapshot repairs a change the server lost (a crash between a write's commit and its publication).
 */
export const RESYNC_INTERVAL_MS = 10 * 60_000;

/**
 * Keeps a session's seat map current: the live stream (`GET /sessions/{id}/seat-map/stream`) when the server
 * offers it, resuming with Last-Event-ID after a drop; otherwise polling `GET /sessions/{id}/seat-map` with
 * If-None-Match. Returns a function that stops it.
 */
export function watchSeatMap(sessionId: string, handlers: LiveSeatMapHandlers): () => void {
  const abort = new AbortController();
  let stopped = false;
  const base = `/api/v1/sessions/${encodeURIComponent(sessionId)}/seat-map`;

  async function stream(lastEventId?: string): Promise<'ended' | 'unavailable'> {
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...identityHeaders() };
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    const response = await fetch(`${base}/stream`, { headers, signal: abort.signal, cache: 'no-store' }).catch(() => undefined);
    if (!response?.ok || !response.body || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response?.body?.cancel().catch(() => undefined);
      return 'unavailable';
    }
    handlers.onMode('live');
    const parser = createSseParser((event) => {
      if (event.event === 'snapshot') {
        const map = parseSnapshot(event.data);
        if (map) handlers.onMap(map);
      } else if (event.event === 'seats') {
        const changes = parseSeatChanges(event.data);
        if (changes.length) handlers.onChanges(changes);
      }
    });
    resumeFrom = lastEventId;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let resync = false;
    const resyncTimer = setTimeout(() => {
      resync = true;
      void reader.cancel().catch(() => undefined);
    }, RESYNC_INTERVAL_MS + Math.random() * 60_000);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
        resumeFrom = parser.lastEventId ?? resumeFrom;
      }
    } catch {
      // dropped: reconnect below
    } finally {
      clearTimeout(resyncTimer);
    }
    if (resync) resumeFrom = undefined;
    return 'ended';
  }

  let resumeFrom: string | undefined;
  let etag: string | undefined;

  async function pollOnce() {
    const headers: Record<string, string> = { Accept: 'application/json', ...identityHeaders() };
    if (etag) headers['If-None-Match'] = etag;
    const response = await fetch(base, { headers, signal: abort.signal, cache: 'no-store' }).catch(() => undefined);
    if (!response || response.status === 304 || !response.ok) return;
    etag = response.headers.get('ETag') ?? undefined;
    handlers.onMap((await response.json()) as SeatMap);
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function run() {
    while (!stopped) {
      const outcome = await stream(resumeFrom);
      if (stopped) return;
      if (outcome === 'unavailable') break;
      await sleep(500);
    }
    // No stream on this server: poll (and look for the stream again now and then, e.g. after an upgrade).
    handlers.onMode('polling');
    let polls = 0;
    while (!stopped) {
      await pollOnce();
      polls += 1;
      await sleep(POLL_INTERVAL_MS);
      if (polls % 150 === 0 && !stopped) {
        const outcome = await stream(resumeFrom);
        if (outcome === 'ended' && !stopped) return run();
        if (!stopped) handlers.onMode('polling');
      }
    }
  }

  void run();
  return () => {
    stopped = true;
    abort.abort();
  };
}
