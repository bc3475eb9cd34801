import type { PriceTierRow } from '../domain/records';
import type { BookingRepositories, BookingStore, PriceTierRepository } from '../domain/store';
import type { PriceTierChanges } from './price-tier-changes';

export interface PriceTierCacheOptions {
  /** The longest a cached read is trusted, as a floor under lost notices (a write outside the API, a failed publish). */
  ttlMs: number;
  /** Cached entries (tiers plus list pages) at most; a full cache starts over. */
  maxEntries?: number;
  now?: () => number;
  onAnnounceError?: (error: unknown) => void;
}

interface Entry<T> {
  value: T;
  storedAt: number;
}

/**
 * The price-tier reads served from memory (every hold with a tier reads them), forgotten whenever any replica
 * writes a tier (PriceTierChanges) and bypassed while this replica might miss such a notice. A read that was
 * already on its way to Postgres when a change was heard is answered but not cached (the generation check).
 * Reads and writes inside a transaction go to Postgres; a write is announced after its commit.
 */
export function withCachedPriceTiers(store: BookingStore, changes: PriceTierChanges, options: PriceTierCacheOptions): BookingStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  const tiers = new Map<string, Entry<PriceTierRow>>();
  const lists = new Map<string, Entry<PriceTierRow[]>>();
  let generation = 0;

  const forget = () => {
    generation += 1;
    tiers.clear();
    lists.clear();
  };
  changes.onChange(forget);

  const fresh = <T>(entry: Entry<T> | undefined): entry is Entry<T> => entry !== undefined && now() - entry.storedAt < options.ttlMs;
  const remember = <T>(map: Map<string, Entry<T>>, key: string, value: T, readAt: number) => {
    if (readAt !== generation || !changes.isListening()) return;
    if (tiers.size + lists.size >= maxEntries) forget();
    map.set(key, { value, storedAt: now() });
  };
  const announce = async () => {
    forget();
    await changes.announce().catch((error: unknown) => options.onAnnounceError?.(error));
  };

  const inner = store.priceTiers;
  const cached: PriceTierRepository = {
    async insert(tier) {
      const row = await inner.insert(tier);
      await announce();
      return row;
    },
    async insertIfMissing(tier) {
      await inner.insertIfMissing(tier);
      await announce();
    },
    async findById(id) {
      const [row] = await cached.findByIds([id]);
      return row;
    },
    async findByIds(ids) {
      if (!changes.isListening()) return inner.findByIds(ids);
      const found: PriceTierRow[] = [];
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const entry = tiers.get(id);
        if (fresh(entry)) found.push(entry.value);
        else missing.push(id);
      }
      if (missing.length === 0) return found;
      const readAt = generation;
      const rows = await inner.findByIds(missing);
      for (const row of rows) remember(tiers, row.id, row, readAt);
      return [...found, ...rows];
    },
    async list(filter) {
      if (!changes.isListening()) return inner.list(filter);
      const key = `${filter.sessionId ?? ''}|${filter.limit}|${filter.offset}`;
      const entry = lists.get(key);
      if (fresh(entry)) return entry.value;
      const readAt = generation;
      const rows = await inner.list(filter);
      remember(lists, key, rows, readAt);
      return rows;
    },
  };

  return {
    ...store,
    priceTiers: cached,
    async transaction(work) {
      let wrote = false;
      const noteWrites = (tx: BookingRepositories): BookingRepositories => ({
        ...tx,
        priceTiers: {
          ...tx.priceTiers,
          insert: (tier) => ((wrote = true), tx.priceTiers.insert(tier)),
          insertIfMissing: (tier) => ((wrote = true), tx.priceTiers.insertIfMissing(tier)),
        },
      });
      const result = await store.transaction((tx) => work(noteWrites(tx)));
      if (wrote) await announce();
      return result;
    },
  };
}
