import type {
  RevocationCheck,
  RevocationEventClaims,
  RevocationKind,
  RevocationSubject,
} from './revocation.types.js';

/** Options of a {@link RevocationSet}. */
export interface RevocationSetOptions {
  /** How often expired entries are swept, in ms (default 10000; 0 disables the timer: call `sweep()` yourself). */
  sweepIntervalMs?: number;
  /**
   * Called when `isRevoked` matched an entry that is not verified yet (see `addPending`), so the owner
   * can verify it at once. Never called on the common path.
   */
  onPendingHit?: (kind: 'jti' | 'sid', value: string, seq: number) => void;
  /**
   * Seconds an entry is kept past its `exp` (default 60), covering the verifiers' clock tolerance: a token
   * accepted slightly after its `exp` must still meet its revocation.
   */
  graceSec?: number;
  /**
   * Most unverified (replayed) entries held at once (default 2,000,000: ~140 MB). Past it, `addPending`
   * refuses and the caller verifies the event before storing anything, so forged batches (1,000 short
   * values in 16 KiB each) cannot turn a stream's bytes into several times as much memory here.
   */
  maxPending?: number;
}

/** An unverified entry matched by a token (see {@link RevocationSet.pendingMatches}). */
export interface PendingEntry {
  readonly kind: 'jti' | 'sid';
  readonly value: string;
  readonly seq: number;
}

/**
 * The in-memory revocation state: a few Maps with expiring entries.
 *
 * `jti` and `sid` map to a number: a positive value is the verified entry's `exp` (unix s); a negative
 * value `-seq` marks an entry replayed but not yet verified (its event is at stream sequence `seq`, fetched
 * and verified the first time a token matches it). Pending entries keep the Map at one number per entry
 * (the ~70 B/entry of a plain Map), which is what lets 100k revocations replay in well under a second.
 * They are swept when their stream message has aged out (`sweepPendingBelow`), verified ones at `exp`.
 */
export class RevocationSet implements RevocationCheck {
  private readonly jti = new Map<string, number>();
  private readonly sid = new Map<string, number>();
  private readonly sub = new Map<string, { at: number; exp: number }>();
  private readonly kid = new Map<string, number>();
  /** `all`: tokens with `iat <= allAt` are revoked; -1 when there is none. */
  private allAt = -1;
  private allExp = 0;
  private epochValue = 0;
  private pendingCount = 0;
  /** A lower bound of the pending entries' sequences (their minimum, or below it). */
  private lowestPendingSeq = Infinity;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onPendingHit: RevocationSetOptions['onPendingHit'];
  private readonly graceSec: number;
  private readonly maxPending: number;

  constructor(options: RevocationSetOptions = {}) {
    const interval = options.sweepIntervalMs ?? 10_000;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new TypeError('sweepIntervalMs must be a non-negative number of milliseconds');
    }
    if (options.onPendingHit !== undefined && typeof options.onPendingHit !== 'function') {
      throw new TypeError('onPendingHit must be a function');
    }
    this.onPendingHit = options.onPendingHit;
    this.maxPending = options.maxPending ?? 2_000_000;
    if (!Number.isInteger(this.maxPending) || this.maxPending < 0) {
      throw new TypeError('maxPending must be a non-negative integer');
    }
    this.graceSec = options.graceSec ?? 60;
    if (!Number.isFinite(this.graceSec) || this.graceSec < 0) {
      throw new TypeError('graceSec must be a non-negative number of seconds');
    }
    if (interval > 0) {
      this.timer = setInterval(() => this.sweep(), interval);
      // The sweep only bounds memory; it must never keep a process alive.
      this.timer.unref();
    }
  }

  /** Bumps whenever the answer of `isRevoked` may have changed for some token. */
  get epoch(): number {
    return this.epochValue;
  }

  /** Entries held (jti + sid + sub + kid, plus 1 for `all`), verified or pending. */
  get size(): number {
    return this.jti.size + this.sid.size + this.sub.size + this.kid.size + (this.allAt >= 0 ? 1 : 0);
  }

  /** Entries replayed but not verified yet. */
  get pending(): number {
    return this.pendingCount;
  }

  /**
   * True if the token is revoked. A match on a not-yet-verified entry answers `true` (fail closed) and
   * asks the owner to verify it; `confirm`-style callers re-ask after that settles.
   */
  isRevoked(token: RevocationSubject): boolean {
    // `all` and `sub`: tokens issued at or before the revocation instant (DESIGN.md, iat <= at).
    if (token.iat <= this.allAt) return true;
    const j = this.jti.get(token.jti);
    if (j !== undefined) {
      if (j < 0) this.onPendingHit?.('jti', token.jti, -j);
      return true;
    }
    if (token.sid !== undefined) {
      const s = this.sid.get(token.sid);
      if (s !== undefined) {
        if (s < 0) this.onPendingHit?.('sid', token.sid, -s);
        return true;
      }
    }
    const u = this.sub.get(token.sub);
    if (u !== undefined && token.iat <= u.at) return true;
    return this.kid.has(token.kid);
  }

  /** The unverified entries this token matches (allocation is fine here: it is the rare path). */
  pendingMatches(token: RevocationSubject): PendingEntry[] {
    const out: PendingEntry[] = [];
    const j = this.jti.get(token.jti);
    if (j !== undefined && j < 0) out.push({ kind: 'jti', value: token.jti, seq: -j });
    if (token.sid !== undefined) {
      const s = this.sid.get(token.sid);
      if (s !== undefined && s < 0) out.push({ kind: 'sid', value: token.sid, seq: -s });
    }
    return out;
  }

  /**
   * Applies a verified revocation. Merges are monotonic (latest `at`, largest `exp`), so a replayed or
   * duplicated event can never shorten or weaken an entry. Returns false if it changed nothing.
   */
  apply(event: Pick<RevocationEventClaims, 'kind' | 'value' | 'at' | 'exp'>): boolean {
    const { kind, value, at, exp } = event;
    // Moot: every token it could match expired past any tolerance. An old event published again must
    // not bring back what the sweep removed, move the epoch (a cache-wide re-check) or wake listeners.
    if (exp < Math.floor(Date.now() / 1000) - this.graceSec) return false;
    let changed = false;
    switch (kind) {
      case 'jti':
      case 'sid': {
        const map = kind === 'jti' ? this.jti : this.sid;
        const old = map.get(value);
        if (old === undefined || old < 0 || old < exp) {
          if (old !== undefined && old < 0) this.pendingCount--;
          map.set(value, exp);
          changed = true;
        }
        break;
      }
      case 'sub': {
        const old = this.sub.get(value);
        if (old === undefined) {
          this.sub.set(value, { at, exp });
          changed = true;
        } else if (at > old.at || exp > old.exp) {
          old.at = Math.max(old.at, at);
          old.exp = Math.max(old.exp, exp);
          changed = true;
        }
        break;
      }
      case 'kid': {
        const old = this.kid.get(value);
        if (old === undefined || old < exp) {
          this.kid.set(value, exp);
          changed = true;
        }
        break;
      }
      case 'all':
        if (at > this.allAt || exp > this.allExp) {
          this.allAt = Math.max(this.allAt, at);
          this.allExp = Math.max(this.allExp, exp);
          changed = true;
        }
        break;
    }
    if (changed) this.epochValue++;
    return changed;
  }

  /**
   * Records a replayed, not yet verified `jti`/`sid` entry at stream sequence `seq`. Returns false when
   * the key is already held (verified or pending), or `maxPending` entries are: the caller must then
   * verify the new event eagerly, so that a forged duplicate can never displace a real entry (and
   * forged batches cannot fill memory).
   */
  addPending(kind: 'jti' | 'sid', value: string, seq: number): boolean {
    const map = kind === 'jti' ? this.jti : this.sid;
    if (map.has(value) || this.pendingCount >= this.maxPending) return false;
    map.set(value, -seq);
    if (seq < this.lowestPendingSeq) this.lowestPendingSeq = seq;
    this.pendingCount++;
    this.epochValue++;
    return true;
  }

  /**
   * {@link addPending} for every value of one batch event at `seq`, all or nothing: false (and nothing
   * added) when any key is already held, so the caller verifies the whole event eagerly instead.
   */
  addPendingBatch(kind: 'jti' | 'sid', values: readonly string[], seq: number): boolean {
    const map = kind === 'jti' ? this.jti : this.sid;
    if (this.pendingCount + values.length > this.maxPending) return false;
    for (const value of values) if (map.has(value)) return false;
    for (const value of values) {
      if (map.has(value)) continue; // a value named twice in one batch
      map.set(value, -seq);
      this.pendingCount++;
    }
    if (seq < this.lowestPendingSeq) this.lowestPendingSeq = seq;
    this.epochValue++;
    return true;
  }

  /** Drops a pending entry whose event did not verify (only if it still points at `seq`). */
  dropPending(kind: 'jti' | 'sid', value: string, seq: number): void {
    const map = kind === 'jti' ? this.jti : this.sid;
    if (map.get(value) === -seq) {
      map.delete(value);
      this.pendingCount--;
      this.epochValue++;
    }
  }

  /**
   * Keeps a pending entry whose message vanished (deleted, stream recreated) as if verified until
   * `untilExp` (unix s): losing storage never un-revokes. Only if it still points at `seq`.
   */
  holdPending(kind: 'jti' | 'sid', value: string, seq: number, untilExp: number): void {
    const map = kind === 'jti' ? this.jti : this.sid;
    if (map.get(value) === -seq) {
      map.set(value, untilExp);
      this.pendingCount--;
    }
  }

  /** {@link holdPending} for every pending entry (their stream is gone). Returns how many. */
  holdAllPending(untilExp: number): number {
    if (this.pendingCount === 0) return 0;
    let n = 0;
    for (const map of [this.jti, this.sid])
      for (const [k, v] of map)
        if (v < 0) {
          map.set(k, untilExp);
          n++;
        }
    this.pendingCount -= n;
    return n;
  }

  /** The pending entries, in replay order (a live view: entries verified meanwhile are skipped). */
  *pendingEntries(): Generator<PendingEntry> {
    for (const kind of ['jti', 'sid'] as const)
      for (const [value, v] of kind === 'jti' ? this.jti : this.sid)
        if (v < 0) yield { kind, value, seq: -v };
  }

  /** Drops every pending entry whose stream message aged out (`seq < firstSeq`). */
  sweepPendingBelow(firstSeq: number): number {
    // Called every second: during a replay of a million entries nothing has aged out yet, and a scan
    // of all of them per call would be wasted.
    if (this.pendingCount === 0 || firstSeq <= this.lowestPendingSeq) return 0;
    let n = 0;
    for (const map of [this.jti, this.sid]) {
      for (const [k, v] of map) {
        if (v < 0 && -v < firstSeq) {
          map.delete(k);
          n++;
        }
      }
    }
    if (n > 0) {
      this.pendingCount -= n;
      this.epochValue++;
    }
    // Every pending entry left is at or above firstSeq.
    this.lowestPendingSeq = firstSeq;
    return n;
  }

  /**
   * Removes verified entries whose `exp` (+ grace) has passed: nothing they match can still be valid.
   * Returns how many were removed. Cost is linear in the entries held, once per sweep interval.
   */
  sweep(nowSec: number = Math.floor(Date.now() / 1000)): number {
    const limit = nowSec - this.graceSec;
    let n = 0;
    for (const map of [this.jti, this.sid, this.kid]) {
      for (const [k, exp] of map) {
        if (exp >= 0 && exp < limit) {
          map.delete(k);
          n++;
        }
      }
    }
    for (const [k, e] of this.sub) {
      if (e.exp < limit) {
        this.sub.delete(k);
        n++;
      }
    }
    if (this.allAt >= 0 && this.allExp < limit) {
      this.allAt = -1;
      this.allExp = 0;
      n++;
    }
    // Removing expired entries changes no verdict on a still-valid token, so the epoch stays.
    return n;
  }

  /** Whether an entry of this kind is held for `value` (tests, diagnostics). */
  has(kind: RevocationKind, value: string): boolean {
    switch (kind) {
      case 'jti':
        return this.jti.has(value);
      case 'sid':
        return this.sid.has(value);
      case 'sub':
        return this.sub.has(value);
      case 'kid':
        return this.kid.has(value);
      case 'all':
        return this.allAt >= 0;
    }
  }

  /** Stops the sweep timer. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
