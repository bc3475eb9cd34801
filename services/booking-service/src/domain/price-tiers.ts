import { randomUUID } from 'node:crypto';
import { notFound } from '@ticketing/platform';
import type { BookingStore } from '../data-access/booking-store';
import type { PriceTierRow } from '../data-access/rows';
import { basisPointsToNumber, toBasisPoints } from './money';

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

export async function createPriceTier(
  store: BookingStore,
  input: { session_id?: string | null; name: string; multiplier: number; description?: string | null },
): Promise<PriceTier> {
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
