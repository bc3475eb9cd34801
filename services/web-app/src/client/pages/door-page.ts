import { api, ApiError, errorText } from '../api';
import { formValues, h, statusLine } from '../dom';

const VERDICTS: Record<string, string> = {
  ADMITTED: 'Admitted — let them in',
  ALREADY_USED: 'Already used — this ticket was admitted before',
  WRONG_SESSION: 'Wrong session — this ticket is for another session',
  REVOKED: 'Revoked — refunded or cancelled ticket',
  INVALID_CODE: 'Invalid code — not a ticket of ours',
};

interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}

/** Door staff: paste or scan a ticket code; the answer of `POST /check-ins` in large, colour-coded text. */
export function doorPage(root: HTMLElement): () => void {
  const verdict = h('div', { class: 'verdict', role: 'status', 'aria-live': 'assertive' });
  const note = statusLine();
  const code = h('textarea', { name: 'code', id: 'door-code', rows: 3, required: true, autocomplete: 'off', spellcheck: 'false' });
  const form = h(
    'form',
    { class: 'panel', 'aria-label': 'Check in a ticket' },
    h('label', { for: 'door-session' }, 'Session id'),
    h('input', { id: 'door-session', name: 'session_id', required: true, value: localStorage.getItem('ticketing.door-session') ?? '' }),
    h('label', { for: 'door-gate' }, 'Gate (optional)'),
    h('input', { id: 'door-gate', name: 'gate', value: localStorage.getItem('ticketing.door-gate') ?? '' }),
    h('label', { for: 'door-code' }, 'Ticket code (paste, or scan below)'),
    code,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Check in')),
  );
  const video = h('video', { class: 'scanner', muted: true, playsinline: true, hidden: true });
  const detectorClass = (window as unknown as { BarcodeDetector?: new (options: { formats: string[] }) => BarcodeDetectorLike }).BarcodeDetector;
  let stream: MediaStream | undefined;
  const scanButton = h('button', { type: 'button', disabled: !detectorClass }, 'Scan with camera');
  root.replaceChildren(
    h('h1', {}, 'Door check-in'),
    form,
    h('div', { class: 'actions' }, scanButton, detectorClass ? null : h('span', { class: 'muted' }, 'This browser cannot read QR codes: paste the code instead.')),
    video,
    verdict,
    note,
  );

  async function checkIn() {
    const values = formValues(form);
    localStorage.setItem('ticketing.door-session', values.session_id);
    localStorage.setItem('ticketing.door-gate', values.gate);
    verdict.dataset.result = 'pending';
    verdict.textContent = 'Checking…';
    try {
      const answer = await api<{ status?: string; result?: string }>('/check-ins', {
        method: 'POST',
        body: { code: values.code, session_id: values.session_id, ...(values.gate ? { gate: values.gate } : {}) },
      });
      const status = answer.status ?? answer.result ?? 'ADMITTED';
      verdict.dataset.result = status;
      verdict.textContent = VERDICTS[status] ?? status;
      code.value = '';
      code.focus();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && /^No route/.test(error.message)) {
        verdict.dataset.result = 'unavailable';
        verdict.textContent = 'Check-in is not available on this server yet';
        note.textContent = 'The API has no POST /api/v1/check-ins: this installation runs without the check-in feature.';
        return;
      }
      const known = error instanceof ApiError ? VERDICTS[error.code] : undefined;
      verdict.dataset.result = error instanceof ApiError ? error.code : 'error';
      verdict.textContent = known ?? errorText(error);
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void checkIn();
  });

  scanButton.addEventListener('click', async () => {
    if (!detectorClass) return;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      const detector = new detectorClass({ formats: ['qr_code'] });
      const look = async () => {
        if (!stream) return;
        const [found] = await detector.detect(video).catch(() => []);
        if (found) {
          code.value = found.rawValue;
          await checkIn();
          setTimeout(look, 1500);
        } else requestAnimationFrame(() => void look());
      };
      void look();
    } catch (error) {
      note.textContent = `Camera unavailable: ${errorText(error)}`;
    }
  });

  return () => {
    stream?.getTracks().forEach((track) => track.stop());
    stream = undefined;
  };
}
