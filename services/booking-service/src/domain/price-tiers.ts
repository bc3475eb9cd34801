import { randomUUID } from 'node:crypto';
import { forbidden, hasRole, notFound, requireRole, type Actor } from '@ticketing/platform';
import type { BookingStore } from './store';
import type { EventServiceClient } from './event-service';
import type { PriceTierRow } from './records';
import { basisPointsToNumber, toBasisPoints } from './money';
import { assertOrganizesSession } from './session-ownership';

export interface PriceTier {
  id: string;
  session_id: string | null;
  name: string;
  multiplier: number;
  description: string | null;
  created_at: string;
}

export const toPriceTier = (row: PriceTierRow): PriceTier => ({
  id: row.id,
  session_id: row.session_id,
  name: row.name,
  multiplier: basisPointsToNumber(toBasisPoints(row.multiplier)),
  description: row.description,
  created_at: row.created_at.toISOString(),
});

/**
 * Who may price what: a global tier (no session) changes every session's prices, so only an admin may create
 * one; a session's tier belongs to the session's organizer, whose membership the event service knows.
 * Development's open catalog (actor `anyone`) checks nothing.
 */
export async function assertMayCreatePriceTier(
  eventService: Pick<EventServiceClient, 'sessionOrganizer'>,
  actor: Actor,
  sessionId: string | null | undefined,
): Promise<void> {
  if (actor.kind === 'anyone') return;
  const { caller } = actor;
  if (hasRole(caller, 'admin')) return;
  requireRole(caller, 'organizer', 'admin');
  if (!sessionId) throw forbidden('Only an admin may create a global price tier (one without session_id)');
  await assertOrganizesSession(eventService, actor, sessionId, "Only the session's organizer may create its price tiers");
}

export async function createPriceTier(
  deps: { store: BookingStore; eventService: Pick<EventServiceClient, 'sessionOrganizer'> },
  actor: Actor,
  input: { session_id?: string | null; name: string; multiplier: number; description?: string | null },
): Promise<PriceTier> {
  await assertMayCreatePriceTier(deps.eventService, actor, input.session_id);
  const { store } = deps;
  const bp = toBasisPoints(input.multiplier);
  const row = await store.priceTiers.insert({
    id: randomUUID(),
    session_id: input.session_id ?? null,
    name: input.name,
    multiplier: (bp / 10_000).toFixed(4),
    description: input.description ?? null,
  });
  return toPriceTier(row);
}

export async function getPriceTier(store: BookingStore, id: string): Promise<PriceTier> {
  const row = await store.priceTiers.findById(id);
  if (!row) throw notFound('Price tier', id);
  return toPriceTier(row);
}

export async function listPriceTiers(
  store: BookingStore,
  filter: { session_id?: string; limit: number; offset: number },
): Promise<PriceTier[]> {
  const rows = await store.priceTiers.list({ sessionId: filter.session_id, limit: filter.limit, offset: filter.offset });
  return rows.map(toPriceTier);
}
