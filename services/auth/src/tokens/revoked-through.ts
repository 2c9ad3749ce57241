import type { RevocationKind } from '@authmesh/interceptor';

/** Entries this many seconds behind the clock can no longer raise an `iat`: they are pruned. */
const KEEP_SEC = 120;
/** Prune once the map has grown past this; the next prune waits until it doubles, so noting stays O(1) amortized. */
const PRUNE_AT = 4096;
/**
 * Most subjects held: past it (a bulk revocation of more subjects within {@link KEEP_SEC}) they are folded
 * into one floor for every subject, which only moves the `iat` of tokens minted in that second by one.
 */
const MAX_SUBJECTS = 65_536;

/**
 * The latest `sub` and `all` revocation instants this replica knows of (its own Revokes at once, other
 * replicas' and the CLI's through the revocation feed). `sub`/`all` revoke tokens with `iat <= at` in
 * whole seconds, so a token minted in the same second as such a revocation would be born revoked: the
 * minter gives it `iat = at + 1` instead (at most a second ahead of this clock, within every verifier's
 * skew tolerance).
 */
export class RevokedThrough {
  private allAt = -1;
  /** The latest `at` of subjects folded away at {@link MAX_SUBJECTS}: a floor for every subject. */
  private foldedAt = -1;
  private readonly subjects = new Map<string, number>();
  private pruneAt = PRUNE_AT;

  constructor(private readonly now: () => number = () => Math.floor(Date.now() / 1000)) {}

  /** Records a revocation; kinds other than `sub` and `all` do not constrain new tokens. */
  note(kind: RevocationKind, value: string, at: number): void {
    if (kind === 'all') {
      if (at > this.allAt) this.allAt = at;
      return;
    }
    if (kind !== 'sub') return;
    const old = this.subjects.get(value);
    if (old !== undefined && old >= at) return;
    if (this.subjects.size >= this.pruneAt) this.prune();
    this.subjects.set(value, at);
  }

  /** The `at` a new token of `sub` must be issued after (its `iat` must exceed it); -1 when none. */
  floor(sub: string): number {
    const at = this.subjects.get(sub) ?? -1;
    return Math.max(at, this.allAt, this.foldedAt);
  }

  /** Subjects held (bounded: old instants are pruned once the map grows). */
  get size(): number {
    return this.subjects.size;
  }

  private prune(): void {
    const horizon = this.now() - KEEP_SEC;
    for (const [sub, at] of this.subjects) if (at < horizon) this.subjects.delete(sub);
    if (this.subjects.size >= MAX_SUBJECTS) {
      for (const at of this.subjects.values()) if (at > this.foldedAt) this.foldedAt = at;
      this.subjects.clear();
    }
    // Every entry still held is recent: scanning them again before the map doubles would find nothing.
    this.pruneAt = Math.max(PRUNE_AT, 2 * this.subjects.size);
  }
}
