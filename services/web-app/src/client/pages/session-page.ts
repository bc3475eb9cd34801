import { api, errorText, type EventItem, type Reservation, type SessionItem } from '../api';
import { formatTime, h, money, statusLine } from '../dom';
import { watchSeatMap } from '../live-seat-map';
import { createSeatMapView } from '../seat-map-view';
import { enterWaitingRoom, type Admission } from '../waiting-room';
import { ticketCard } from './tickets-page';

/** Buyer: the session's seat map, pick seats, hold them with a countdown, pay, see the tickets. */
export function sessionPage(root: HTMLElement, sessionId: string): () => void {
  const title = h('h1', {}, 'Session');
  const when = h('p', { class: 'muted' });
  // Shown with the seat map: a buyer still in the waiting room follows the queue, not the map.
  const mode = h('span', { class: 'badge', 'data-mode': 'connecting', hidden: true }, 'connecting…');
  const counts = h('p', { class: 'muted counts', 'aria-live': 'off' });
  const message = statusLine();
  const picks = h('ul', { class: 'picks', 'aria-label': 'Your seats' });
  const total = h('p', { class: 'total' });
  const holdButton = h('button', { type: 'button', class: 'primary', disabled: true }, 'Pick seats on the map');
  const checkout = h('section', { class: 'panel checkout', 'aria-label': 'Your order' }, h('h2', {}, 'Your seats'), picks, total, holdButton, message);

  const view = createSeatMapView(showPicks);
  const layout = h('div', { class: 'session-layout' }, view.element, checkout);
  // The seat map, or the waiting room in front of it while the session has one and the buyer is not admitted.
  const stage = h('div', { class: 'session-stage' });
  root.replaceChildren(h('p', {}, h('a', { href: '#/' }, '← All events')), title, h('div', { class: 'session-meta' }, when, mode, counts), stage);

  let hold: Reservation | undefined;
  let countdown: number | undefined;
  let admission: Admission | undefined;
  let stopSeatMap: (() => void) | undefined;

  function showPicks(selected: string[]) {
    if (hold) return;
    picks.replaceChildren(...selected.map((id) => h('li', {}, `${view.seatLabel(id)} — ${money(view.price(id))}`)));
    const sum = selected.reduce((acc, id) => acc + view.price(id), 0);
    total.textContent = selected.length ? `Total ${money(sum)}` : '';
    holdButton.disabled = selected.length === 0;
    holdButton.textContent = selected.length ? `Hold ${selected.length} seat${selected.length > 1 ? 's' : ''}` : 'Pick seats on the map';
  }

  holdButton.addEventListener('click', async () => {
    const seats = view.selected();
    if (!seats.length) return;
    holdButton.disabled = true;
    message.textContent = 'Holding your seats…';
    try {
      hold = await api<Reservation>('/reservations', {
        method: 'POST',
        headers: { 'Idempotency-Key': crypto.randomUUID(), ...(admission ? { 'X-Queue-Admission': admission.token } : {}) },
        body: { session_id: sessionId, seats: seats.map((session_seat_id) => ({ session_seat_id })) },
      });
      view.clearSelection();
      view.markHeld(hold.items.map((item) => item.session_seat_id));
      showHold(hold);
    } catch (error) {
      message.textContent = `Could not hold: ${errorText(error)}`;
      holdButton.disabled = false;
    }
  });

  function showHold(reservation: Reservation) {
    const expiresAt = Date.now() + reservation.time_remaining_seconds * 1000;
    const timer = h('strong', { class: 'countdown', role: 'timer', 'aria-live': 'off' });
    const payButton = h('button', { type: 'button', class: 'primary' }, `Pay ${money(reservation.total_amount)}`);
    const releaseButton = h('button', { type: 'button' }, 'Release seats');
    picks.replaceChildren(...reservation.items.map((item) => h('li', {}, `Row ${item.row_number}, seat ${item.seat_number} — ${money(item.final_price)}`)));
    total.replaceChildren(`Held for you: `, timer, ` · total ${money(reservation.total_amount)}`);
    holdButton.replaceWith(h('div', { class: 'actions hold-actions' }, payButton, releaseButton));
    message.textContent = `Seats held. Pay before the timer runs out.`;
    const tick = () => {
      const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
      timer.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
      if (left === 0) {
        window.clearInterval(countdown);
        message.textContent = 'Your hold expired; the seats are back on sale. Pick again.';
        payButton.disabled = true;
        releaseButton.disabled = true;
        resetAfter();
      }
    };
    tick();
    countdown = window.setInterval(tick, 250);

    payButton.addEventListener('click', async () => {
      payButton.disabled = true;
      releaseButton.disabled = true;
      message.textContent = 'Paying…';
      try {
        const confirmed = await api<Reservation>(`/reservations/${reservation.id}/confirm`, { method: 'POST', body: { payment_id: `web-${crypto.randomUUID()}` } });
        window.clearInterval(countdown);
        const tickets = confirmed.tickets ?? [];
        checkout.replaceChildren(
          h('h2', {}, 'Paid — your tickets'),
          h('p', { role: 'status' }, `${tickets.length} ticket${tickets.length === 1 ? '' : 's'}, ${money(confirmed.total_amount)} paid.`),
          h('div', { class: 'tickets' }, ...tickets.map(ticketCard)),
          h('p', {}, h('a', { href: '#/tickets' }, 'All my tickets'), ' · ', h('a', { href: `#/sessions/${sessionId}`, onclick: () => location.reload() }, 'Buy more')),
        );
      } catch (error) {
        message.textContent = `Payment failed: ${errorText(error)}`;
        payButton.disabled = false;
        releaseButton.disabled = false;
      }
    });
    releaseButton.addEventListener('click', async () => {
      try {
        await api(`/reservations/${reservation.id}`, { method: 'DELETE' });
        window.clearInterval(countdown);
        message.textContent = 'Seats released.';
        resetAfter();
      } catch (error) {
        message.textContent = `Could not release: ${errorText(error)}`;
      }
    });
  }

  function resetAfter() {
    hold = undefined;
    view.markHeld([]);
    const actions = checkout.querySelector('.hold-actions');
    actions?.replaceWith(holdButton);
    showPicks([]);
  }

  function showCounts() {
    const c = view.counts();
    counts.textContent = `${c.available} available · ${c.reserved} on hold · ${c.sold} sold`;
  }

  const showSeatMap = () =>
    watchSeatMap(sessionId, {
      onMap(map) {
        view.showMap(map);
        showCounts();
      },
      onChanges(changes) {
        view.applyChanges(changes);
        showCounts();
      },
      onMode(current) {
        mode.dataset.mode = current;
        mode.textContent = current === 'live' ? '● live' : '↻ updating every 0.25 s';
      },
    });

  const leaveQueue = enterWaitingRoom(sessionId, stage, (admitted) => {
    admission = admitted;
    stage.replaceChildren(layout);
    mode.hidden = false;
    if (admitted) message.textContent = `Your turn! Hold your seats before ${admitted.expiresAt.toLocaleTimeString()}.`;
    stopSeatMap = showSeatMap();
  });

  void (async () => {
    try {
      const session = await api<SessionItem>(`/sessions/${sessionId}`);
      when.textContent = `${formatTime(session.start_time)} – ${formatTime(session.end_time)} · from ${money(session.base_price)}`;
      const event = await api<EventItem>(`/events/${session.event_id}`);
      title.textContent = event.title;
      document.title = `${event.title} · Box office`;
    } catch (error) {
      message.textContent = errorText(error);
    }
  })();

  return () => {
    leaveQueue();
    stopSeatMap?.();
    window.clearInterval(countdown);
  };
}
