import type { RevocationKind } from './revocation.types.js';

/** A stream event signed by a key not known yet. */
export interface ParkedEvent {
  readonly seq: number;
  readonly jws: string;
  readonly kind: RevocationKind;
  readonly kid: string;
  /** Monotonic ms when it was parked. */
  readonly parkedAt: number;
  retrying: boolean;
}

/** How many events each class holds at most. */
export interface ParkingLimits {
  /** Events signed by a kid announced on `authmesh.keys.rotated` (what a genuine event after a rotation carries). */
  announced: number;
  /** Events signed by any other unknown kid. */
  other: number;
}

const ANNOUNCED_KIDS = 16;

/**
 * Stream events signed by a key the interceptor does not know yet (a rotation it has not fetched, a
 * JWKS that is unreachable), keyed by stream sequence. Each one holds the feed's applied sequence
 * below it until its key arrives (then it applies) or a JWKS fetched after it still lacks the key
 * (then it was forged). Two classes with separate bounds: events whose kid was announced as a new key
 * cannot be crowded out by a flood of random kids. Nothing is ever evicted: an event that finds its
 * class full is not kept in memory but marks the stream position to re-read (`overflowFrom`), which
 * holds the horizon as well, so a flood degrades into a stale feed, never into a lost revocation.
 */
export class ParkedEvents {
  private readonly announcedKids = new Set<string>();
  private readonly announced = new Map<number, ParkedEvent>();
  private readonly other = new Map<number, ParkedEvent>();
  /** Lowest sequence not kept for lack of room: re-read from the stream once the classes drain. */
  overflowFrom: number | undefined;

  constructor(private readonly limits: ParkingLimits) {}

  /** A kid the auth service announced as its new key. */
  announce(kid: string): void {
    if (this.announcedKids.has(kid)) return;
    this.announcedKids.add(kid);
    if (this.announcedKids.size > ANNOUNCED_KIDS)
      this.announcedKids.delete(this.announcedKids.values().next().value!);
  }

  get size(): number {
    return this.announced.size + this.other.size;
  }

  /** Parks an event; false when its class is full (then `overflowFrom` holds its place). */
  add(seq: number, jws: string, kind: RevocationKind, kid: string, now: number): boolean {
    const cls = this.announcedKids.has(kid) ? this.announced : this.other;
    const limit = cls === this.announced ? this.limits.announced : this.limits.other;
    if (!cls.has(seq) && cls.size >= limit) {
      this.overflowFrom = Math.min(this.overflowFrom ?? Infinity, seq);
      return false;
    }
    cls.set(seq, { seq, jws, kind, kid, parkedAt: now, retrying: false });
    return true;
  }

  /** The event at `seq` is settled (applied, or dropped as forged). */
  remove(seq: number): void {
    this.announced.delete(seq) || this.other.delete(seq);
  }

  /** Lowest sequence held (parked or to re-read); Infinity for none. Orphans hold nothing. */
  floor(): number {
    let min = this.overflowFrom ?? Infinity;
    for (const seq of this.announced.keys()) if (seq > 0 && seq < min) min = seq;
    for (const seq of this.other.keys()) if (seq > 0 && seq < min) min = seq;
    return min;
  }

  /**
   * The stream was recreated: parked events keep waiting for their key (a genuine one must still apply:
   * losing storage never un-revokes), but under negative keys, since their sequences belong to a
   * stream that is gone and must hold nothing in the new one. Events to re-read are gone with it.
   */
  orphan(): void {
    for (const cls of [this.announced, this.other]) {
      const events = [...cls.values()];
      cls.clear();
      for (const e of events) {
        const seq = e.seq > 0 ? --this.orphans : e.seq;
        cls.set(seq, { ...e, seq });
      }
    }
    this.overflowFrom = undefined;
  }
  private orphans = 0;

  events(): ParkedEvent[] {
    return [...this.announced.values(), ...this.other.values()];
  }

  /** Drops events below the stream's first sequence (aged out: moot). Returns how many. */
  dropBelow(first: number): number {
    let n = 0;
    for (const cls of [this.announced, this.other])
      for (const seq of cls.keys())
        if (seq > 0 && seq < first) {
          cls.delete(seq);
          n++;
        }
    if (this.overflowFrom !== undefined && this.overflowFrom < first) this.overflowFrom = first;
    return n;
  }

  clear(): number {
    const n = this.size;
    this.announced.clear();
    this.other.clear();
    this.overflowFrom = undefined;
    return n;
  }
}
