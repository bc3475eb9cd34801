/** One Server-Sent Event as the HTML spec dispatches it. */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental text/event-stream parser (HTML Living Standard §9.2.6): feed it decoded text chunks in any
 * split; it calls `onEvent` for every complete event. Comments (heartbeats) and `retry` are skipped; the last
 * seen id is kept for `Last-Event-ID` on reconnect.
 */
export function createSseParser(onEvent: (event: SseEvent) => void) {
  let buffer = '';
  let eventType = '';
  let data: string[] = [];
  let id: string | undefined;
  let lastEventId: string | undefined;

  function dispatch() {
    if (data.length > 0) onEvent({ event: eventType || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
    eventType = '';
    data = [];
    id = undefined;
  }

  function line(text: string) {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') eventType = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) {
      id = value;
      lastEventId = value;
    }
  }

  return {
    push(chunk: string) {
      buffer += chunk;
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        if (end === -1) return;
        // A lone \r at the very end may be the first half of \r\n: wait for the next chunk.
        if (buffer[end] === '\r' && end === buffer.length - 1) return;
        const width = buffer.startsWith('\r\n', end) ? 2 : 1;
        line(buffer.slice(0, end));
        buffer = buffer.slice(end + width);
      }
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
