/**
 * Bearer tokens this process verified recently, with the caller each names, so a buyer's every request does
 * not pay signature verification and claim checks again (the same token comes with every request of a
 * session). An entry never outlives its token's `exp`, nor `maxAgeMs` (which bounds how long a token whose
 * signing key was withdrawn from the JWKS keeps working here). Only tokens that verified are kept, under their
 * exact text: a token that differs by one character is verified in full. Bounded: the oldest entry makes room.
 */
export class VerifiedTokens<Caller> {
  private readonly entries = new Map<string, { caller: Caller; validUntilMs: number }>();

  constructor(
    private readonly options: { maxEntries: number; maxAgeMs: number; now?: () => number },
  ) {}

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  get size(): number {
    return this.entries.size;
  }

  /** The caller of a token verified earlier and still within its window, else undefined. */
  get(token: string): Caller | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.validUntilMs > this.now()) return entry.caller;
    this.entries.delete(token);
    return undefined;
  }

  /** Keeps a verified token until `expiresAtMs` (its `exp`) or the maximum age, whichever comes first. */
  remember(token: string, caller: Caller, expiresAtMs: number): void {
    const { maxEntries, maxAgeMs } = this.options;
    if (maxEntries <= 0 || maxAgeMs <= 0) return;
    const now = this.now();
    const validUntilMs = Math.min(expiresAtMs, now + maxAgeMs);
    if (!(validUntilMs > now)) return;
    this.entries.delete(token);
    while (this.entries.size >= maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(token, { caller, validUntilMs });
  }
}
