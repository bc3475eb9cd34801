import './styles.css';
import { h } from './dom';
import { currentIdentity, ensureIdentity, rememberToken, rememberUserId } from './identity';
import { doorPage } from './pages/door-page';
import { eventsPage } from './pages/events-page';
import { organizerPage } from './pages/organizer-page';
import { sessionPage } from './pages/session-page';
import { ticketsPage } from './pages/tickets-page';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const main = document.getElementById('main')!;
let leavePage: () => void = () => undefined;

/** Hash routes, so the static server needs no fallback: #/, #/sessions/:id, #/tickets, #/organize, #/door. */
function route() {
  leavePage();
  const path = location.hash.replace(/^#/, '') || '/';
  const session = /^\/sessions\/([0-9a-f-]{36})$/i.exec(path);
  leavePage = session
    ? sessionPage(main, session[1])
    : path === '/tickets'
      ? ticketsPage(main)
      : path === '/organize'
        ? organizerPage(main)
        : path === '/door'
          ? doorPage(main)
          : eventsPage(main);
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
    if (link.getAttribute('href') === `#${path}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  main.focus({ preventScroll: true });
}

/** Who am I: a development-mode user id (X-User-ID) or a bearer token (jwt mode), kept in localStorage. */
function identityPanel(): HTMLElement {
  const summary = h('summary', {});
  const userInput = h('input', { id: 'identity-user', name: 'user', spellcheck: 'false', autocomplete: 'off' });
  const tokenInput = h('textarea', { id: 'identity-token', name: 'token', rows: 3, spellcheck: 'false', placeholder: 'eyJ…' });
  const note = h('p', { class: 'status', role: 'status' });
  const show = () => {
    const identity = currentIdentity();
    summary.textContent = identity.token ? 'Signed in with a token' : `User ${identity.userId?.slice(0, 8) ?? '—'}…`;
    userInput.value = identity.userId ?? '';
  };
  const panel = h(
    'details',
    { class: 'identity' },
    summary,
    h(
      'form',
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          const token = tokenInput.value.trim();
          if (token) rememberToken(token);
          else if (UUID.test(userInput.value.trim())) rememberUserId(userInput.value.trim().toLowerCase());
          else {
            note.textContent = 'A user id is a UUID.';
            return;
          }
          tokenInput.value = '';
          note.textContent = 'Saved.';
          show();
          route();
        },
      },
      h('label', { for: 'identity-user' }, 'User id (development mode, sent as X-User-ID)'),
      userInput,
      h('button', { type: 'button', onclick: () => (userInput.value = crypto.randomUUID()) }, 'New user id'),
      h('label', { for: 'identity-token' }, 'or a bearer token (jwt mode)'),
      tokenInput,
      h('button', { type: 'submit', class: 'primary' }, 'Use this identity'),
      note,
    ),
  );
  show();
  return panel;
}

ensureIdentity();
document.getElementById('identity-slot')!.replaceWith(identityPanel());
window.addEventListener('hashchange', route);
route();
