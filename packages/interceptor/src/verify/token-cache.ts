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

/** A stored entry with the whole token it was verified for. */
interface Slot {
  readonly token: string;
  readonly entry: CacheEntry;
}

/**
 * How many characters at the end of a token key the cache. A JWS ends with its signature: 16
 * base64url characters carry more than 90 bits of it, so distinct tokens collide only by chance (and a
 * collision costs a cache miss, never a wrong verdict: see `get`). V8 hashes a string once per
 * object, and each call's token is a fresh string: hashing 16 characters instead of ~400 is most of
 * what the warm path saves.
 */
export const CACHE_KEY_CHARS = 16;

/** Expired entries are swept at most this often (on a lookup or a store), so memory follows live tokens. */
export const SWEEP_INTERVAL_MS = 30_000;

function cacheKey(token: string): string {
  return token.length > CACHE_KEY_CHARS ? token.slice(-CACHE_KEY_CHARS) : token;
}

/**
 * Verified-token cache: bounded (the oldest entry goes first), an entry never outlives the token's
 * `exp`, and expired entries are swept every SWEEP_INTERVAL_MS, not only pushed out at the bound.
 * Keyed by the token's last CACHE_KEY_CHARS characters; a hit requires the whole token to be equal.
 * Revocation and key checks stay with the caller, who compares the stored epochs (see authenticator.ts).
 */
export class TokenCache {
  readonly #slots = new Map<string, Slot>();
  readonly #maxEntries: number;
  #nextSweepMs = 0;

  /** `maxEntries` 0 disables caching. */
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The live entry for `token`, or undefined (an expired one is dropped on the way). */
  get(token: string, nowMs: number): CacheEntry | undefined {
    if (nowMs >= this.#nextSweepMs) this.sweep(nowMs);
    const key = cacheKey(token);
    const slot = this.#slots.get(key);
    // Whole-token equality: two tokens sharing the key slice never share a verdict. Reaching this
    // comparison at all takes knowing 90+ bits of the cached token's signature.
    if (slot === undefined || slot.token !== token) return undefined;
    if (nowMs >= slot.entry.expiresAtMs) {
      this.#slots.delete(key);
      return undefined;
    }
    return slot.entry;
  }

  /**
   * Stores a verified token; a token already expired at `nowMs` is not stored. A different token
   * with the same key slice is replaced (the cache only ever costs a re-verification, never a verdict).
   */
  set(token: string, entry: CacheEntry, nowMs: number): void {
    if (this.#maxEntries === 0 || nowMs >= entry.expiresAtMs) return;
    if (nowMs >= this.#nextSweepMs) this.sweep(nowMs);
    const key = cacheKey(token);
    this.#slots.delete(key);
    while (this.#slots.size >= this.#maxEntries) {
      // Map iteration order is insertion order: the first key is the oldest entry.
      const oldest = this.#slots.keys().next().value as string;
      this.#slots.delete(oldest);
    }
    this.#slots.set(key, { token, entry });
  }

  delete(token: string): void {
    const key = cacheKey(token);
    if (this.#slots.get(key)?.token === token) this.#slots.delete(key);
  }

  /** Drops every entry expired at `nowMs`; returns how many. Runs by itself every SWEEP_INTERVAL_MS. */
  sweep(nowMs: number): number {
    this.#nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
    return this.evictWhere((entry) => nowMs >= entry.expiresAtMs);
  }

  /** Drops every entry whose principal matches (a revocation that just arrived). */
  evictWhere(predicate: (entry: CacheEntry) => boolean): number {
    let n = 0;
    for (const [key, slot] of this.#slots) {
      if (predicate(slot.entry)) {
        this.#slots.delete(key);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.#slots.size;
  }

  clear(): void {
    this.#slots.clear();
  }
}
