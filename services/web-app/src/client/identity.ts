const USER_KEY = 'ticketing.user-id';
const TOKEN_KEY = 'ticketing.bearer-token';

/** Who the app acts as: a development-mode user id (X-User-ID), or a pasted bearer token in jwt mode. */
export interface Identity {
  userId: string | undefined;
  token: string | undefined;
}

export function currentIdentity(): Identity {
  return { userId: localStorage.getItem(USER_KEY) ?? undefined, token: localStorage.getItem(TOKEN_KEY) ?? undefined };
}

export function rememberUserId(userId: string) {
  localStorage.setItem(USER_KEY, userId);
  localStorage.removeItem(TOKEN_KEY);
}

export function rememberToken(token: string) {
  localStorage.setItem(TOKEN_KEY, token);
  const subject = tokenSubject(token);
  if (subject) localStorage.setItem(USER_KEY, subject);
}

/** First visit in development mode: a fresh user id so the buyer can start at once. */
export function ensureIdentity(): Identity {
  const identity = currentIdentity();
  if (!identity.userId && !identity.token) rememberUserId(crypto.randomUUID());
  return currentIdentity();
}

/** The `sub` claim of a JWT (not verified here: the API verifies it); used to list the caller's tickets. */
export function tokenSubject(token: string): string | undefined {
  try {
    const payload = token.split('.')[1];
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const sub = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

export function identityHeaders(identity: Identity = currentIdentity()): Record<string, string> {
  if (identity.token) return { Authorization: `Bearer ${identity.token}` };
  return identity.userId ? { 'X-User-ID': identity.userId } : {};
}
