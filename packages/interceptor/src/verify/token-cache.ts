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
 * How many characters at the end of a token key the cache. A JWS ends with its signature, whose last
 * CACHE_KEY_CHARS characters (48 bits) are hashed to a 30-bit integer: V8 looks a small integer up in a
 * Map without hashing a string, and each call's token is a fresh string whose hash V8 would otherwise
 * compute on every call (the whole token: ~0.7 µs; a 16-character slice: ~0.2 µs; this: ~0.1 µs).
 * Distinct tokens share a key only by chance (about 1 pair in 20 among 10,000 cached tokens), and a
 * shared key costs a cache miss, never a wrong verdict: see `get`.
 */
export const CACHE_KEY_CHARS = 8;

/** Expired entries are swept at most this often (on a lookup or a store), so memory follows live tokens. */
export const SWEEP_INTERVAL_MS = 30_000;

/**
 * Entries a lookup or store examines of a due sweep: the sweep is spread over calls, so no call pays for
 * scanning the whole cache (10,000 entries by default) at once.
 */
export const SWEEP_STEP = 256;

/** FNV-1a over the token's last CACHE_KEY_CHARS characters, kept to 30 bits (a V8 small integer). */
export function cacheKeyOf(token: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = Math.max(0, token.length - CACHE_KEY_CHARS); i < token.length; i++)
    h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/**
 * Verified-token cache: bounded (the oldest entry goes first), an entry never outlives the token's
 * `exp`, and expired entries are swept every SWEEP_INTERVAL_MS, not only pushed out at the bound.
 * Keyed by a hash of the token's last CACHE_KEY_CHARS characters; a hit requires the whole token to be equal.
 * Revocation and key checks stay with the caller, who compares the stored epochs (see authenticator.ts).
 */
export class TokenCache {
  readonly #slots = new Map<number, Slot>();
  readonly #maxEntries: number;
  #nextSweepMs = 0;
  /** Where the sweep in progress stands (a Map iterator survives deletions); undefined between sweeps. */
  #sweepCursor: Iterator<[number, Slot]> | undefined;

  /** `maxEntries` 0 disables caching. */
  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  /** The live entry for `token`, or undefined (an expired one is dropped on the way). */
  get(token: string, nowMs: number): CacheEntry | undefined {
    if (nowMs >= this.#nextSweepMs) this.#sweepStep(nowMs);
    const key = cacheKeyOf(token);
    const slot = this.#slots.get(key);
    // Whole-token equality: two tokens sharing a key never share a verdict.
    if (slot === undefined || slot.token !== token) return undefined;
    if (nowMs >= slot.entry.expiresAtMs) {
      this.#slots.delete(key);
      return undefined;
    }
    return slot.entry;
  }

  /**
   * Stores a verified token; a token already expired at `nowMs` is not stored. A different token
   * with the same key is replaced (the cache only ever costs a re-verification, never a verdict).
   */
  set(token: string, entry: CacheEntry, nowMs: number): void {
    if (this.#maxEntries === 0 || nowMs >= entry.expiresAtMs) return;
    if (nowMs >= this.#nextSweepMs) this.#sweepStep(nowMs);
    const key = cacheKeyOf(token);
    this.#slots.delete(key);
    while (this.#slots.size >= this.#maxEntries) {
      // Map iteration order is insertion order: the first key is the oldest entry.
      const oldest = this.#slots.keys().next().value as number;
      this.#slots.delete(oldest);
    }
    this.#slots.set(key, { token, entry });
  }

  delete(token: string): void {
    const key = cacheKeyOf(token);
    if (this.#slots.get(key)?.token === token) this.#slots.delete(key);
  }

  /**
   * Drops every entry expired at `nowMs` at once; returns how many. Lookups and stores do the same by
   * themselves every SWEEP_INTERVAL_MS, SWEEP_STEP entries per call.
   */
  sweep(nowMs: number): number {
    this.#nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
    this.#sweepCursor = undefined;
    return this.evictWhere((entry) => nowMs >= entry.expiresAtMs);
  }

  /** One step of a due sweep; the next sweep is scheduled once this one has passed every entry. */
  #sweepStep(nowMs: number): void {
    const cursor = (this.#sweepCursor ??= this.#slots.entries());
    for (let i = 0; i < SWEEP_STEP; i++) {
      const next = cursor.next();
      if (next.done === true) {
        this.#sweepCursor = undefined;
        this.#nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
        return;
      }
      if (nowMs >= next.value[1].entry.expiresAtMs) this.#slots.delete(next.value[0]);
    }
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
