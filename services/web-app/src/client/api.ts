import { identityHeaders } from './identity';

/** The contract's JSON error, with the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Calls `/api/v1/...` on this origin (the web server proxies it) as the current identity. */
export async function api<T>(path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...identityHeaders(), ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', `The server could not be reached (${(error as Error).message})`);
  }
  const text = await response.text();
  const json = text ? safeJson(text) : undefined;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const retry = response.headers.get('Retry-After');
    const message = error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, error?.code ?? `HTTP_${response.status}`, retry ? `${message} (retry in ${retry} s)` : message, error?.details);
  }
  return json as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message}${error.code && error.status ? ` (${error.code})` : ''}`;
  return (error as Error).message ?? String(error);
}

// ---- shapes of the contract used by the pages ---------------------------------------------------------

export interface EventItem {
  id: string;
  title: string;
  description: string | null;
  event_type: string;
  organizer_id: string;
}
export interface SessionItem {
  id: string;
  event_id: string;
  hall_id: string;
  start_time: string;
  end_time: string;
  base_price: number;
}
export interface Ticket {
  id: string;
  reservation_id: string;
  session_id: string;
  session_seat_id: string;
  row_number: string;
  seat_number: string;
  price: number;
  status: string;
  qr_code: string;
  code?: string;
}
export interface Reservation {
  id: string;
  session_id: string;
  status: string;
  expiry_time: string;
  seats_count: number;
  total_amount: number;
  time_remaining_seconds: number;
  items: { session_seat_id: string; row_number: string; seat_number: string; final_price: number }[];
  tickets?: Ticket[];
}
