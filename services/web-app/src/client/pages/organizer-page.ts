import { api, errorText, type EventItem, type SessionItem } from '../api';
import { formatTime, formValues, h, money, statusLine } from '../dom';
import { parseRowSpec } from '../row-spec';
import type { SeatMap } from '../seat-map-model';

interface Named {
  id: string;
  name: string;
}

const field = (label: string, input: HTMLElement) => h('label', { class: 'field' }, h('span', {}, label), input);
const select = (name: string) => h('select', { name, required: true });

function fillSelect(element: HTMLSelectElement, items: { id: string; label: string }[], chosen?: string) {
  const keep = chosen ?? element.value;
  element.replaceChildren(...items.map((item) => h('option', { value: item.id }, item.label)));
  if (items.some((item) => item.id === keep)) element.value = keep;
}

/** A form section that posts, reports in its own status line, and refreshes the page's lists on success. */
function section(title: string, fields: HTMLElement[], submitLabel: string, submit: (values: Record<string, string>, form: HTMLFormElement) => Promise<string>) {
  const message = statusLine();
  const form = h('form', { class: 'panel', 'aria-label': title }, h('h2', {}, title), ...fields, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, submitLabel)), message);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>('button[type=submit]')!;
    button.disabled = true;
    message.textContent = 'Saving…';
    try {
      message.textContent = await submit(formValues(form), form);
      message.dataset.ok = 'true';
    } catch (error) {
      message.textContent = errorText(error);
      message.dataset.ok = 'false';
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Organizer: create an organizer, a venue, a hall with its seats, an event and a session; see sales per session. */
export function organizerPage(root: HTMLElement): () => void {
  const organizerSelect = select('organizer_id');
  const eventOrganizerSelect = select('organizer_id');
  const locationSelect = select('location_id');
  const eventSelect = select('event_id');
  const hallSelect = select('hall_id');
  const seatsText = h('textarea', { name: 'rows', rows: 5, placeholder: 'A 1-20\nB 1-20\nC 1-10, 12-20' });
  const seatsFile = h('input', { type: 'file', accept: '.txt,.csv,text/plain' });
  seatsFile.addEventListener('change', async () => {
    const file = seatsFile.files?.[0];
    if (file) seatsText.value = await file.text();
  });
  const sales = h('tbody');
  const salesStatus = statusLine();

  const now = new Date(Date.now() + 7 * 86_400_000);
  now.setMinutes(0, 0, 0);
  const local = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

  async function refresh(chosen: { organizer?: string; location?: string; event?: string; hall?: string } = {}) {
    const [organizers, locations, events, halls] = await Promise.all([
      api<Named[]>('/organizers?limit=500'),
      api<Named[]>('/locations?limit=500'),
      api<EventItem[]>('/events?limit=500'),
      api<(Named & { location_id: string })[]>('/halls?limit=500'),
    ]);
    for (const element of [organizerSelect, eventOrganizerSelect]) fillSelect(element, organizers.map((o) => ({ id: o.id, label: o.name })), chosen.organizer);
    fillSelect(locationSelect, locations.map((l) => ({ id: l.id, label: l.name })), chosen.location);
    fillSelect(eventSelect, events.map((e) => ({ id: e.id, label: e.title })), chosen.event);
    const venue = new Map(locations.map((l) => [l.id, l.name]));
    fillSelect(hallSelect, halls.map((hall) => ({ id: hall.id, label: `${hall.name} (${venue.get(hall.location_id) ?? 'venue'})` })), chosen.hall);
    await showSales(events);
  }

  async function showSales(events: EventItem[]) {
    const titles = new Map(events.map((e) => [e.id, e.title]));
    const sessions = (await api<SessionItem[]>('/sessions?limit=500')).sort((a, b) => a.start_time.localeCompare(b.start_time));
    const rows = await Promise.all(
      sessions.slice(0, 50).map(async (session) => {
        const map = await api<SeatMap>(`/sessions/${session.id}/seat-map`).catch(() => undefined);
        const count = (status: string) => map?.seats.filter((seat) => seat.status === status).length ?? 0;
        const revenue = map?.seats.filter((seat) => seat.status === 'sold').reduce((sum, seat) => sum + seat.price, 0) ?? 0;
        return h(
          'tr',
          { 'data-session-id': session.id },
          h('th', { scope: 'row' }, h('a', { href: `#/sessions/${session.id}` }, titles.get(session.event_id) ?? 'Event'), h('br'), h('span', { class: 'muted' }, formatTime(session.start_time))),
          h('td', { 'data-count': 'sold' }, count('sold')),
          h('td', { 'data-count': 'reserved' }, count('reserved')),
          h('td', { 'data-count': 'available' }, count('available')),
          h('td', {}, money(revenue)),
        );
      }),
    );
    sales.replaceChildren(...rows);
    salesStatus.textContent = sessions.length ? `${sessions.length} session${sessions.length === 1 ? '' : 's'}` : 'No sessions yet.';
  }

  root.replaceChildren(
    h('h1', {}, 'Organize'),
    h('p', { class: 'muted' }, 'Set up a show in five steps; each step offers what the previous ones created.'),
    h(
      'div',
      { class: 'organizer-grid' },
      section('1. Organizer', [field('Name', h('input', { name: 'name', required: true })), field('Contact email', h('input', { name: 'contact_email', type: 'email' }))], 'Create organizer', async (values) => {
        const organizer = await api<Named>('/organizers', { method: 'POST', body: { name: values.name, contact_email: values.contact_email || undefined } });
        await refresh({ organizer: organizer.id });
        return `Created organizer ${organizer.name}.`;
      }),
      section(
        '2. Venue',
        [field('Organizer', organizerSelect), field('Venue name', h('input', { name: 'name', required: true })), field('City', h('input', { name: 'city' })), field('Country', h('input', { name: 'country' })), field('Time zone', h('input', { name: 'timezone', value: Intl.DateTimeFormat().resolvedOptions().timeZone }))],
        'Create venue',
        async (values) => {
          const location = await api<Named>('/locations', {
            method: 'POST',
            body: { name: values.name, city: values.city || undefined, country: values.country || undefined, timezone: values.timezone || undefined, organizer_id: values.organizer_id || undefined },
          });
          await refresh({ location: location.id });
          return `Created venue ${location.name}.`;
        },
      ),
      section(
        '3. Hall and seats',
        [field('Venue', locationSelect), field('Hall name', h('input', { name: 'name', required: true })), field('Seats: one row per line, e.g. "A 1-20"', seatsText), field('…or upload a text file', seatsFile)],
        'Create hall with seats',
        async (values) => {
          const parsed = parseRowSpec(values.rows ?? '');
          if ('error' in parsed) throw new Error(parsed.error);
          const hall = await api<Named>(`/locations/${values.location_id}/halls`, { method: 'POST', body: { name: values.name, capacity: parsed.seats.length } });
          await api(`/halls/${hall.id}/seats/bulk`, { method: 'POST', body: { seats: parsed.seats } });
          await refresh({ hall: hall.id });
          return `Created hall ${hall.name} with ${parsed.seats.length} seats.`;
        },
      ),
      section(
        '4. Event',
        [field('Organizer', eventOrganizerSelect), field('Title', h('input', { name: 'title', required: true })), field('Type', h('input', { name: 'event_type', required: true, value: 'concert' })), field('Description', h('textarea', { name: 'description', rows: 2 }))],
        'Create event',
        async (values) => {
          const event = await api<EventItem>('/events', { method: 'POST', body: { title: values.title, event_type: values.event_type, description: values.description || undefined, organizer_id: values.organizer_id } });
          await refresh({ event: event.id });
          return `Created event ${event.title}.`;
        },
      ),
      section(
        '5. Session',
        [
          field('Event', eventSelect),
          field('Hall', hallSelect),
          field('Starts', h('input', { name: 'start', type: 'datetime-local', required: true, value: local(now) })),
          field('Ends', h('input', { name: 'end', type: 'datetime-local', required: true, value: local(new Date(now.getTime() + 2 * 3_600_000)) })),
          field('Base price', h('input', { name: 'base_price', type: 'number', min: '0', step: '0.01', required: true, value: '40.00' })),
        ],
        'Create session',
        async (values) => {
          const session = await api<SessionItem>('/sessions', {
            method: 'POST',
            body: { event_id: values.event_id, hall_id: values.hall_id, start_time: new Date(values.start).toISOString(), end_time: new Date(values.end).toISOString(), base_price: Number(values.base_price) },
          });
          await refresh();
          return `Created the session of ${formatTime(session.start_time)}: it is on sale now.`;
        },
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-label': 'Sales per session' },
      h('h2', {}, 'Sales per session'),
      h('table', { class: 'sales' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Session'), h('th', { scope: 'col' }, 'Sold'), h('th', { scope: 'col' }, 'On hold'), h('th', { scope: 'col' }, 'Available'), h('th', { scope: 'col' }, 'Revenue'))), sales),
      salesStatus,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => void refresh() }, 'Refresh')),
    ),
  );
  void refresh().catch((error) => (salesStatus.textContent = errorText(error)));
  return () => undefined;
}
