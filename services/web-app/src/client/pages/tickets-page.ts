import { api, errorText, type Ticket } from '../api';
import { h, money, statusLine } from '../dom';
import { currentIdentity } from '../identity';

export function ticketCard(ticket: Ticket): HTMLElement {
  return h(
    'article',
    { class: 'ticket', 'data-ticket-id': ticket.id, 'aria-label': `Ticket row ${ticket.row_number} seat ${ticket.seat_number}` },
    h('img', { src: ticket.qr_code, alt: `QR code of the ticket for row ${ticket.row_number}, seat ${ticket.seat_number}`, width: 160, height: 160 }),
    h('div', {}, h('strong', {}, `Row ${ticket.row_number}, seat ${ticket.seat_number}`), h('p', { class: 'muted' }, `${money(ticket.price)} · ${ticket.status}`)),
  );
}

/** The buyer's tickets with their QR codes. */
export function ticketsPage(root: HTMLElement): () => void {
  const message = statusLine('Loading your tickets…');
  const list = h('div', { class: 'tickets' });
  root.replaceChildren(h('h1', {}, 'My tickets'), message, list);
  const { userId } = currentIdentity();
  void (async () => {
    if (!userId) {
      message.textContent = 'Choose who you are first (top right).';
      return;
    }
    try {
      const tickets = await api<Ticket[]>(`/tickets/user/${userId}`);
      message.textContent = tickets.length ? `${tickets.length} ticket${tickets.length === 1 ? '' : 's'}` : 'No tickets yet.';
      list.replaceChildren(...tickets.map(ticketCard));
    } catch (error) {
      message.textContent = errorText(error);
    }
  })();
  return () => undefined;
}
