import type { Knex } from '@ticketing/platform';
import type { PriceTierRow } from '../domain/records';
import type { NewPriceTier } from '../domain/store';

export function priceTierRepository(db: Knex | Knex.Transaction) {
  return {
    async insert(tier: NewPriceTier): Promise<PriceTierRow> {
      const [row] = await db<PriceTierRow>('price_tiers').insert(tier).returning('*');
      return row;
    },
    /** Inserts unless a tier with that id exists (the demo data). */
    async insertIfMissing(tier: NewPriceTier): Promise<void> {
      await db<PriceTierRow>('price_tiers').insert(tier).onConflict('id').ignore();
    },
    async findById(id: string): Promise<PriceTierRow | undefined> {
      return db<PriceTierRow>('price_tiers').where({ id }).first();
    },
    async findByIds(ids: string[]): Promise<PriceTierRow[]> {
      if (ids.length === 0) return [];
      return db<PriceTierRow>('price_tiers').whereIn('id', ids);
    },
    /** With a session id: that session's tiers and the global ones. */
    async list(filter: { sessionId?: string; limit: number; offset: number }): Promise<PriceTierRow[]> {
      const query = db<PriceTierRow>('price_tiers');
      if (filter.sessionId) query.where((q) => q.where('session_id', filter.sessionId!).orWhereNull('session_id'));
      return query.orderBy([{ column: 'created_at', order: 'asc' }, { column: 'id' }]).limit(filter.limit).offset(filter.offset);
    },
  };
}

