import { api, errorText, type EventItem, type SessionItem } from '../api';
import { formatTime, h, money, statusLine } from '../dom';

/** Buyer: every event with its sessions; a session links to its seat map. */
export function eventsPage(root: HTMLElement): () => void {
  const message = statusLine('Loading events…');
  const list = h('ul', { class: 'event-list' });
  root.replaceChildren(h('h1', {}, 'What’s on'), message, list);
  void (async () => {
    try {
      const [events, sessions] = await Promise.all([api<EventItem[]>('/events?limit=500'), api<SessionItem[]>('/sessions?limit=500')]);
      message.textContent = events.length ? '' : 'No events yet. Organizers create them under “Organize”.';
      const byEvent = new Map<string, SessionItem[]>();
      for (const session of sessions) byEvent.set(session.event_id, [...(byEvent.get(session.event_id) ?? []), session]);
      list.replaceChildren(
        ...events.map((event) => {
          const own = (byEvent.get(event.id) ?? []).sort((a, b) => a.start_time.localeCompare(b.start_time));
          return h(
            'li',
            { class: 'panel event' },
            h('h2', {}, event.title),
            h('p', { class: 'muted' }, event.event_type, event.description ? ` · ${event.description}` : ''),
            own.length
              ? h(
                  'ul',
                  { class: 'sessions', 'aria-label': `Sessions of ${event.title}` },
                  ...own.map((session) =>
                    h('li', {}, h('a', { class: 'session-link', href: `#/sessions/${session.id}`, 'data-session-id': session.id }, `${formatTime(session.start_time)} · from ${money(session.base_price)}`)),
                  ),
                )
              : h('p', { class: 'muted' }, 'No sessions yet.'),
          );
        }),
      );
    } catch (error) {
      message.textContent = errorText(error);
    }
  })();
  return () => undefined;
}
