/**
 * Verdicts on revocation events by digest, each kept `ttlMs` after it was stored and at most
 * `maxEntries` of them (the oldest goes first).
 *
 * A verdict saves a signature check when the same event comes again: its core and stream copies
 * (milliseconds apart, or minutes while the stream consumer works through a backlog), or a forged event
 * sent again. Without an expiry the Map grew by one verdict per revocation until its bound (8192 at
 * ~160 B, reached after more than two hours at one revocation a second), so memory under steady
 * revocation traffic kept rising for hours; with it, what is held follows the recent event rate. An
 * event that comes again after its verdict expired is verified again: one signature check, charged to
 * the verify budget when it is forged, never a different outcome (applying a revocation twice is a no-op).
 */
export class VerdictCache<V> {
  /** Insertion order is time order (set re-inserts), so the expired ones are always at the front. */
  readonly #entries = new Map<string, { readonly value: V; readonly at: number }>();

  /**
   * @param maxEntries bound on the verdicts held
   * @param ttlMs how long a verdict is kept, ms
   * @param now a monotonic clock in ms (performance.now by default; tests pass their own)
   */
  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new TypeError('maxEntries must be a positive integer');
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError('ttlMs must be a positive number of ms');
  }

  get(digest: string): V | undefined {
    this.sweep();
    return this.#entries.get(digest)?.value;
  }

  has(digest: string): boolean {
    return this.get(digest) !== undefined;
  }

  set(digest: string, value: V): void {
    this.sweep();
    this.#entries.delete(digest);
    this.#entries.set(digest, { value, at: this.now() });
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /** Forgets `digest` if it still holds `value` (a later verdict for the same event is kept). */
  deleteIf(digest: string, value: V): void {
    if (this.#entries.get(digest)?.value === value) this.#entries.delete(digest);
  }

  /** Drops the expired verdicts; returns how many. Runs on every get and set (it stops at the first live one). */
  sweep(): number {
    const cutoff = this.now() - this.ttlMs;
    let n = 0;
    for (const [digest, e] of this.#entries) {
      if (e.at > cutoff) break;
      this.#entries.delete(digest);
      n++;
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
