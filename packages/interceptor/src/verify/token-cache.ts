import type { Principal } from '../claims.js';
import type { VerificationKey } from '../jwks/key-store.types.js';

/** One verified token, with the epochs of the revocation state and key set it was last checked against. */
export interface CacheEntry {
  readonly principal: Principal;
  readonly key: VerificationKey;
  /** `exp` in ms: the entry is never returned at or after this instant. */
  readonly expiresAtMs: number;
  revocationEpoch: number;
  keyEpoch: number;
}

/**
 * Verified-token cache keyed by the token string: bounded (the oldest entry goes first), and an entry
 * never outlives the token's `exp`. Revocation and key checks stay with the caller, who compares
 * the stored epochs (see server/authenticator.ts).
 */
export class TokenCache {
  readonly #entries = new Map<string, CacheEntry>();
  readonly #maxEntries: number;

  /** `maxEntries` 0 disables caching. */
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The live entry for `token`, or undefined (an expired one is dropped on the way). */
  get(token: string, nowMs: number): CacheEntry | undefined {
    const entry = this.#entries.get(token);
    if (entry !== undefined && nowMs >= entry.expiresAtMs) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry;
  }

  /** Stores a verified token; a token already expired at `nowMs` is not stored. */
  set(token: string, entry: CacheEntry, nowMs: number): void {
    if (this.#maxEntries === 0 || nowMs >= entry.expiresAtMs) return;
    this.#entries.delete(token);
    while (this.#entries.size >= this.#maxEntries) {
      // Map iteration order is insertion order: the first key is the oldest entry.
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(token, entry);
  }

  delete(token: string): void {
    this.#entries.delete(token);
  }

  /** Drops every entry whose principal matches (a revocation that just arrived). */
  evictWhere(predicate: (entry: CacheEntry) => boolean): number {
    let n = 0;
    for (const [token, entry] of this.#entries) {
      if (predicate(entry)) {
        this.#entries.delete(token);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
