/** Resources the booking service owns; every other `/api/v1/...` path belongs to the event service. */
const BOOKING_RESOURCES = new Set(['reservations', 'tickets', 'price-tiers', 'check-ins', 'ticket-keys', 'queue']);

/** A session's waiting room and queue live in the booking service, under the event service's `sessions` resource. */
const BOOKING_SESSION_PATHS = /^\/api\/v1\/sessions\/[^/?#]+\/(queue|waiting-room)(?:[/?#]|$)/;

export type ApiTarget = 'event' | 'booking';

/** Which API answers a same-origin `/api/v1/...` path (undefined: not an API path). */
export function apiTargetFor(pathname: string): ApiTarget | undefined {
  const match = /^\/api\/v1\/([^/?#]+)/.exec(pathname);
  if (!match) return undefined;
  return BOOKING_RESOURCES.has(match[1]) || BOOKING_SESSION_PATHS.test(pathname) ? 'booking' : 'event';
}
