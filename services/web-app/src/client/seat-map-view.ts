import { h, money } from './dom';
import { priceTiers, rowsOf, SeatStatusBoard, type SeatChange, type SeatMap, type SeatStatus } from './seat-map-model';

const STATUS_WORDS: Record<SeatStatus, string> = { available: 'available', reserved: 'taken (on hold)', sold: 'sold' };
const MIN_SEAT_PX = 3;
const MAX_SEAT_PX = 40;

export interface SeatMapView {
  element: HTMLElement;
  /** Draws a whole map (first time) or updates the statuses that changed. */
  showMap(map: SeatMap): void;
  applyChanges(changes: SeatChange[]): void;
  selected(): string[];
  clearSelection(): void;
  /** Marks the seats the buyer holds (drawn as "your hold"); an empty list clears the mark. */
  markHeld(ids: string[]): void;
  seatLabel(id: string): string;
  price(id: string): number;
  counts(): Record<SeatStatus, number>;
}

/**
 * The hall drawn as rows of seat buttons. Each seat is a <button> with `data-session-seat-id` and
 * `data-status`, an aria-label ("Row A, seat 5, 45.00, available") and aria-pressed when picked. One seat at a
 * time is in the tab order (roving tabindex): arrow keys move, Enter/Space pick, +/- zoom; drag or scroll pans.
 * Statuses update in place, so a 20,000-seat map is built once and only changed seats are touched after that.
 */
export function createSeatMapView(onSelectionChange: (selected: string[]) => void, maxSelectable = 10): SeatMapView {
  const board = new SeatStatusBoard();
  const buttons = new Map<string, HTMLButtonElement>();
  const info = new Map<string, { label: string; price: number }>();
  const chosen = new Set<string>();
  const held = new Set<string>();
  let grid: HTMLButtonElement[][] = [];
  let seatPx = 22;
  let tabStop: HTMLButtonElement | undefined;

  const canvas = h('div', { class: 'seat-map-canvas', role: 'grid', 'aria-label': 'Seat map' });
  const viewport = h('div', { class: 'seat-map-viewport', tabindex: '-1' }, canvas);
  const legend = h('ul', { class: 'seat-legend', 'aria-label': 'Legend' });
  const zoomLabel = h('span', { class: 'zoom-level', 'aria-live': 'polite' });
  const zoom = (factor: number) => {
    seatPx = Math.max(MIN_SEAT_PX, Math.min(MAX_SEAT_PX, Math.round(seatPx * factor)));
    canvas.style.setProperty('--seat', `${seatPx}px`);
    zoomLabel.textContent = `${Math.round((seatPx / 22) * 100)}%`;
  };
  const fit = () => {
    const widest = Math.max(1, ...grid.map((row) => row.length));
    seatPx = 22;
    zoom(Math.min(1, (viewport.clientWidth - 60) / (widest * 24)));
  };
  const toolbar = h(
    'div',
    { class: 'seat-map-toolbar', role: 'toolbar', 'aria-label': 'Zoom' },
    h('button', { type: 'button', onclick: () => zoom(1.25), 'aria-label': 'Zoom in' }, '+'),
    h('button', { type: 'button', onclick: () => zoom(0.8), 'aria-label': 'Zoom out' }, '−'),
    h('button', { type: 'button', onclick: fit }, 'Fit'),
    zoomLabel,
  );
  const element = h('section', { class: 'seat-map', 'aria-label': 'Hall' }, toolbar, h('div', { class: 'stage', 'aria-hidden': 'true' }, 'Stage'), viewport, legend);

  // Drag to pan (mouse and touch); a short press still picks the seat under it.
  let drag: { x: number; y: number; left: number; top: number; moved: boolean } | undefined;
  viewport.addEventListener('pointerdown', (event) => {
    if (event.pointerType !== 'mouse') return; // touch pans natively
    drag = { x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop, moved: false };
  });
  viewport.addEventListener('pointermove', (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 4) drag.moved = true;
    viewport.scrollLeft = drag.left - dx;
    viewport.scrollTop = drag.top - dy;
  });
  window.addEventListener('pointerup', () => setTimeout(() => (drag = undefined), 0));
  viewport.addEventListener(
    'wheel',
    (event) => {
      if (!event.ctrlKey) return;
      event.preventDefault();
      zoom(event.deltaY < 0 ? 1.1 : 0.9);
    },
    { passive: false },
  );

  function describe(id: string): string {
    const seat = info.get(id)!;
    const status = board.status(id) ?? 'available';
    const state = chosen.has(id) ? 'selected' : held.has(id) && status === 'reserved' ? 'held for you' : STATUS_WORDS[status];
    return `${seat.label}, ${money(seat.price)}, ${state}`;
  }

  function paint(id: string) {
    const button = buttons.get(id);
    const status = board.status(id);
    if (!button || !status) return;
    if (status !== 'available' && chosen.delete(id)) onSelectionChange([...chosen]);
    button.dataset.status = status;
    if (held.has(id)) button.dataset.mine = 'true';
    else delete button.dataset.mine;
    button.setAttribute('aria-pressed', String(chosen.has(id)));
    button.setAttribute('aria-disabled', String(status !== 'available'));
    button.setAttribute('aria-label', describe(id));
  }

  function toggle(id: string) {
    if (drag?.moved) return;
    if (board.status(id) !== 'available') return;
    if (chosen.has(id)) chosen.delete(id);
    else if (chosen.size < maxSelectable) chosen.add(id);
    paint(id);
    onSelectionChange([...chosen]);
  }

  function moveFocus(from: HTMLButtonElement, key: string) {
    const r = Number(from.dataset.r);
    const c = Number(from.dataset.c);
    const target =
      key === 'ArrowRight' ? grid[r]?.[c + 1]
      : key === 'ArrowLeft' ? grid[r]?.[c - 1]
      : key === 'ArrowDown' ? grid[r + 1]?.[Math.min(c, (grid[r + 1]?.length ?? 1) - 1)]
      : key === 'ArrowUp' ? grid[r - 1]?.[Math.min(c, (grid[r - 1]?.length ?? 1) - 1)]
      : key === 'Home' ? grid[r]?.[0]
      : key === 'End' ? grid[r]?.[grid[r].length - 1]
      : undefined;
    if (!target) return false;
    if (tabStop) tabStop.tabIndex = -1;
    target.tabIndex = 0;
    tabStop = target;
    target.focus();
    return true;
  }

  canvas.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button.seat');
    if (button) toggle(button.dataset.sessionSeatId!);
  });
  canvas.addEventListener('keydown', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button.seat');
    if (event.key === '+' || event.key === '=') zoom(1.25);
    else if (event.key === '-') zoom(0.8);
    else if (!button || !moveFocus(button, event.key)) return;
    event.preventDefault();
  });

  function build(map: SeatMap) {
    board.load(map);
    const tiers = priceTiers(map.seats);
    const rows = rowsOf(map.seats);
    const fragment = document.createDocumentFragment();
    grid = [];
    rows.forEach(({ row, seats }, r) => {
      const line = h('div', { class: 'seat-row', role: 'row', 'aria-label': `Row ${row}` }, h('span', { class: 'row-label', 'aria-hidden': 'true' }, row));
      const cells: HTMLButtonElement[] = [];
      seats.forEach((seat, c) => {
        const id = seat.session_seat_id;
        info.set(id, { label: `Row ${seat.row_number}, seat ${seat.seat_number}`, price: seat.price });
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'seat';
        button.tabIndex = -1;
        button.setAttribute('role', 'gridcell');
        button.dataset.sessionSeatId = id;
        button.dataset.tier = String(Math.min(tiers.indexOf(seat.price), 5));
        button.dataset.r = String(r);
        button.dataset.c = String(c);
        button.title = `${row}-${seat.seat_number} · ${money(seat.price)}`;
        buttons.set(id, button);
        cells.push(button);
        line.appendChild(button);
        paint(id);
      });
      grid.push(cells);
      fragment.appendChild(line);
    });
    canvas.replaceChildren(fragment);
    tabStop = grid[0]?.[0];
    if (tabStop) tabStop.tabIndex = 0;
    legend.replaceChildren(
      ...tiers.slice(0, 6).map((price, index) => h('li', {}, h('span', { class: 'swatch seat', 'data-status': 'available', 'data-tier': String(index), 'aria-hidden': 'true' }), index === 5 && tiers.length > 6 ? `${money(price)}+` : money(price))),
      h('li', {}, h('span', { class: 'swatch seat', 'data-status': 'available', 'aria-pressed': 'true', 'aria-hidden': 'true' }), 'your pick'),
      h('li', {}, h('span', { class: 'swatch seat', 'data-status': 'reserved', 'data-mine': 'true', 'aria-hidden': 'true' }), 'your hold'),
      h('li', {}, h('span', { class: 'swatch seat', 'data-status': 'reserved', 'aria-hidden': 'true' }), 'on hold'),
      h('li', {}, h('span', { class: 'swatch seat', 'data-status': 'sold', 'aria-hidden': 'true' }), 'sold'),
    );
    requestAnimationFrame(fit);
  }

  return {
    element,
    showMap(map) {
      if (buttons.size === 0 || map.seats.length !== buttons.size) {
        buttons.clear();
        build(map);
        return;
      }
      for (const id of board.load(map)) paint(id);
    },
    applyChanges(changes) {
      for (const change of board.apply(changes)) paint(change.session_seat_id);
    },
    selected: () => [...chosen],
    clearSelection() {
      const ids = [...chosen];
      chosen.clear();
      for (const id of ids) paint(id);
      onSelectionChange([]);
    },
    markHeld(ids) {
      const before = [...held];
      held.clear();
      for (const id of ids) held.add(id);
      for (const id of new Set([...before, ...ids])) paint(id);
    },
    seatLabel: (id) => info.get(id)?.label ?? id,
    price: (id) => info.get(id)?.price ?? 0,
    counts: () => board.counts(),
  };
}
