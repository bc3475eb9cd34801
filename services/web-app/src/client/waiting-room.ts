import { api, errorText } from './api';
import { h, statusLine } from './dom';
import { identityHeaders } from './identity';
import { createSseParser } from './sse-parser';

/** GET /queue/{ticket} and its stream's `status` events (booking API). */
export interface QueueStatus {
  queue_ticket: string;
  status: 'WAITING_FOR_OPENING' | 'QUEUED' | 'ADMITTED' | 'SOLD_OUT' | 'NOT_IN_QUEUE';
  position: number | null;
  ahead: number | null;
  waiting: number;
  estimated_wait_seconds: number | null;
  opens_at: string;
  admission: { token: string; expires_at: string } | null;
}

export interface Admission {
  token: string;
  expiresAt: Date;
}

/** While the stream is unavailable (or between reconnects) the page polls this often. */
const POLL_MS = 2_000;

/**
 * The waiting room in front of a session's seat map. When the session has none, `onAdmitted(undefined)` runs at
 * once. Otherwise the buyer joins the queue, sees their place (position, people ahead, estimated wait, a progress
 * bar) follow the status stream, and `onAdmitted` gets the admission token the hold must carry. Returns a stop function.
 */
export function enterWaitingRoom(sessionId: string, container: HTMLElement, onAdmitted: (admission: Admission | undefined) => void): () => void {
  let abort = new AbortController();
  let stopped = false;
  let pollTimer: number | undefined;
  let firstPosition: number | undefined;

  const headline = h('p', { class: 'queue-headline' }, 'Joining the queue…');
  const progress = h('progress', { max: 100, value: 0, 'aria-label': 'Progress through the queue' });
  const detail = h('p', { class: 'muted' });
  const message = statusLine();
  const panel = h('section', { class: 'panel waiting-room', 'aria-label': 'Waiting room', 'data-queue-status': 'joining' }, h('h2', {}, 'Waiting room'), headline, progress, detail, message);

  function show(status: QueueStatus) {
    panel.dataset.queueStatus = status.status;
    if (status.status === 'WAITING_FOR_OPENING') {
      headline.textContent = `You are in. Sales open ${new Date(status.opens_at).toLocaleTimeString()}: everyone who joined before then gets a random place.`;
      detail.textContent = `${status.waiting} waiting`;
    } else if (status.status === 'QUEUED' && status.position !== null) {
      firstPosition ??= status.position;
      headline.textContent = `Your place in line: ${status.position}`;
      const wait = status.estimated_wait_seconds ?? 0;
      detail.textContent = `${status.ahead} ahead of you · about ${wait < 90 ? `${wait} s` : `${Math.round(wait / 60)} min`} · ${status.waiting} waiting`;
      progress.value = Math.round(100 * (1 - (status.position - 1) / Math.max(firstPosition, 1)));
    } else if (status.status === 'ADMITTED' && status.admission) {
      progress.value = 100;
      finish();
      onAdmitted({ token: status.admission.token, expiresAt: new Date(status.admission.expires_at) });
    } else if (status.status === 'SOLD_OUT') {
      headline.textContent = 'Sold out — every seat of this session is taken.';
      detail.textContent = '';
      finish();
    } else if (status.status === 'NOT_IN_QUEUE') {
      headline.textContent = 'Your turn passed before you held seats.';
      detail.replaceChildren(h('button', { type: 'button', onclick: () => void join() }, 'Join the queue again'));
      finish();
    }
  }

  function finish() {
    stopped = true;
    abort.abort();
    window.clearTimeout(pollTimer);
  }

  async function follow(ticket: string) {
    while (!stopped) {
      const response = await fetch(`/api/v1/queue/${ticket}/stream`, {
        headers: { Accept: 'text/event-stream', ...identityHeaders() },
        signal: abort.signal,
        cache: 'no-store',
      }).catch(() => undefined);
      if (response?.ok && response.body && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const parser = createSseParser((event) => {
          if (event.event === 'status') show(JSON.parse(event.data) as QueueStatus);
        });
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            parser.push(value);
          }
        } catch {
          // dropped: poll once, then reconnect
        }
      }
      if (stopped) return;
      await poll(ticket);
      await new Promise((resolve) => (pollTimer = window.setTimeout(resolve, POLL_MS)));
    }
  }

  async function poll(ticket: string) {
    try {
      show(await api<QueueStatus>(`/queue/${ticket}`));
    } catch (error) {
      message.textContent = errorText(error);
    }
  }

  async function join() {
    stopped = false;
    abort = new AbortController();
    firstPosition = undefined;
    try {
      const status = await api<QueueStatus>(`/sessions/${encodeURIComponent(sessionId)}/queue`, { method: 'POST' });
      show(status);
      if (!stopped) void follow(status.queue_ticket);
    } catch (error) {
      message.textContent = `Could not join the queue: ${errorText(error)}`;
    }
  }

  void (async () => {
    try {
      await api(`/sessions/${encodeURIComponent(sessionId)}/waiting-room`);
    } catch {
      // No waiting room (404), or none to be learnt: straight to the seat map. The booking API still refuses a
      // hold without admission on a session that has one, so a wrong guess here costs the buyer, not the sale.
      return onAdmitted(undefined);
    }
    container.replaceChildren(panel);
    await join();
  })();

  return finish;
}
