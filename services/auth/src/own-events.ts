import { createHash } from 'node:crypto';

/** Options of {@link OwnEvents}. */
export interface OwnEventsOptions {
  /** Most events remembered (default 65536, about 8 MB); the oldest go first. */
  max?: number;
  /** How long an event is remembered after it was signed, ms (default 120000). */
  ttlMs?: number;
  /** The clock, ms (tests). */
  now?: () => number;
}

/**
 * The revocation events this process signed recently, so that its own guard's feed can apply them
 * without checking their signature again (`trustedEvent` of the feed options): under a burst of Revokes
 * that check, ~100–300 µs each on the main thread, is what the guard spent its time on.
 *
 * Only an exact match counts: what is kept is the SHA-256 of the whole compact JWS (header, payload and
 * signature), so a string equal to one we produced is, by construction, one we signed. An event that
 * only shares a kid or a signature segment with ours has another digest and is verified as usual.
 * Bounded by count and age: an event forgotten before its copies arrive is simply verified.
 */
export class OwnEvents {
  private readonly max: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** digest → when it is forgotten; Map order is insertion order, so the oldest come first. */
  private readonly until = new Map<string, number>();

  constructor(options: OwnEventsOptions = {}) {
    this.max = options.max ?? 65_536;
    if (!Number.isInteger(this.max) || this.max < 1) throw new TypeError('max must be a positive integer');
    this.ttlMs = options.ttlMs ?? 120_000;
    if (!Number.isFinite(this.ttlMs) || this.ttlMs <= 0)
      throw new TypeError('ttlMs must be a positive number');
    this.now = options.now ?? Date.now;
  }

  /** Notes an event this process signed (before publishing it: its core copy may arrive before the ack). */
  add(jws: string): void {
    const digest = digestOf(jws);
    this.until.delete(digest);
    this.until.set(digest, this.now() + this.ttlMs);
    this.prune();
  }

  /** Whether `jws` is exactly one this process signed within the last `ttlMs`. */
  has(jws: string): boolean {
    const until = this.until.get(digestOf(jws));
    return until !== undefined && until > this.now();
  }

  /** How many are remembered (metrics, tests). */
  get size(): number {
    return this.until.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [digest, until] of this.until) {
      if (this.until.size <= this.max && until > now) break;
      this.until.delete(digest);
    }
  }
}

function digestOf(jws: string): string {
  return createHash('sha256').update(jws, 'latin1').digest('base64');
}
