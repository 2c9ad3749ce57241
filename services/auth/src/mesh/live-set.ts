import type { NatsConnection, Subscription } from 'nats';
import {
  MESH_GOODBYE_SUBJECT,
  MESH_SUBJECT_PREFIX,
  parseAnnouncement,
  type MeshAnnouncement,
} from '@authmesh/interceptor';
import { MESH_ROSTER_SUBJECT } from './roster.js';
import type { MeshInstance } from '@authmesh/interceptor/proto';

/** An instance is gone when unheard for this many of its announced periods. */
export const PERIODS_BEFORE_GONE = 3;
/** Default bound of the live set, instances. */
export const DEFAULT_MAX_INSTANCES = 10_000;

export interface LiveSetOptions {
  /** Most instances held (default 10,000). */
  maxInstances?: number;
  /** Clock, unix ms (tests). */
  now?: () => number;
}

interface Entry {
  a: MeshAnnouncement;
  lastSeen: number;
}

/** The outcome of a wait for a sequence: which instances applied it, which did not in time. */
export interface Receipt {
  applied: MeshInstance[];
  pending: MeshInstance[];
}

interface Waiter {
  sequence: number;
  pending: Set<string>;
  applied: Map<string, MeshInstance>;
  done(): void;
}

/**
 * The live protected-service instances, from their announcements on `authmesh.mesh.>` (each auth
 * replica subscribes and keeps its own copy: no datastore, the same answer everywhere). An instance
 * unheard for 3 of its periods is gone; a goodbye removes it at once.
 *
 * Bounded: at most `maxInstances`. When full, a NEW instance id is admitted only once an expired one
 * was swept; a live instance is never evicted to make room. So a flood of fake ids can fill the free
 * room but cannot push out an instance that keeps announcing (the cost: while a flood holds the set
 * full, a newly started real instance is not listed until fake ones expire; counted in `refused`).
 * Announcements are not authenticated (see MeshAnnouncement.authenticated).
 */
export class LiveSet {
  private readonly byId = new Map<string, Entry>();
  private readonly waiters = new Set<Waiter>();
  private readonly max: number;
  private readonly now: () => number;
  private sub: Subscription | undefined;
  private lastFullSweep = -Infinity;
  /** Announcements dropped: malformed. */
  malformed = 0;
  /** New instances not admitted because the set was full of live ones. */
  refused = 0;

  constructor(options: LiveSetOptions = {}) {
    const max = options.maxInstances ?? DEFAULT_MAX_INSTANCES;
    if (!Number.isInteger(max) || max < 1) throw new TypeError('maxInstances must be a positive integer');
    this.max = max;
    this.now = options.now ?? Date.now;
  }

  /** Subscribes to `authmesh.mesh.>` on `nc` (core NATS; announcements are not stored). */
  subscribe(nc: NatsConnection): void {
    this.sub = nc.subscribe(`${MESH_SUBJECT_PREFIX}>`, {
      callback: (err, m) => {
        // Roster requests (./roster.ts) share the prefix; they are not announcements.
        if (err !== null || m.subject === MESH_ROSTER_SUBJECT) return;
        const a = parseAnnouncement(m.data);
        if (!a) {
          this.malformed++;
          return;
        }
        if (m.subject === MESH_GOODBYE_SUBJECT) this.forget(a.id);
        else this.observe(a);
      },
    });
  }

  close(): void {
    this.sub?.unsubscribe();
    for (const w of [...this.waiters]) w.done();
  }

  /** Records one announcement, heard now (or at `seenAt`, unix ms: a roster entry). */
  observe(a: MeshAnnouncement, seenAt?: number): void {
    const now = seenAt ?? this.now();
    const entry = this.byId.get(a.id);
    if (entry) {
      if (entry.lastSeen > now) return; // a roster entry older than what was heard directly
      entry.a = a;
      entry.lastSeen = now;
    } else {
      // A full set is swept at most every 100 ms: a flood of new ids must not cost O(n) each.
      if (this.byId.size >= this.max && now - this.lastFullSweep >= 100) {
        this.lastFullSweep = now;
        this.sweep(now);
      }
      if (this.byId.size >= this.max) {
        this.refused++;
        return;
      }
      this.byId.set(a.id, { a, lastSeen: now });
    }
    if (this.waiters.size > 0) this.notify(a.id, now);
  }

  forget(id: string): void {
    this.byId.delete(id);
  }

  /** The live announcements as last heard, for a roster reply. */
  entries(): { a: MeshAnnouncement; seen: number }[] {
    this.sweep(this.now());
    return [...this.byId.values()].map((e) => ({ a: e.a, seen: e.lastSeen }));
  }

  /** The ids of the instances live now. */
  liveIds(): string[] {
    this.sweep(this.now());
    return [...this.byId.keys()];
  }

  /** Every live instance, by audience then id. */
  instances(): MeshInstance[] {
    this.sweep(this.now());
    return [...this.byId.values()]
      .map((e) => toInstance(e))
      .sort((x, y) => x.audience!.localeCompare(y.audience!) || x.instance_id!.localeCompare(y.instance_id!));
  }

  get size(): number {
    return this.byId.size;
  }

  /**
   * Waits until every instance of `ids` has announced an applied sequence ≥ `sequence`, or `timeoutMs`
   * ran out. An instance that leaves meanwhile stays pending (it never confirmed).
   */
  waitApplied(ids: readonly string[], sequence: number, timeoutMs: number): Promise<Receipt> {
    return new Promise<Receipt>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const known = new Map<string, MeshInstance>();
      for (const id of ids) {
        const e = this.byId.get(id);
        known.set(id, e ? toInstance(e) : { instance_id: id });
      }
      const w: Waiter = {
        sequence,
        pending: new Set(ids),
        applied: new Map(),
        done: () => {
          if (!this.waiters.delete(w)) return;
          if (timer) clearTimeout(timer);
          // An instance that went silent meanwhile is reported as last heard before the wait.
          const pending = [...w.pending].map((id) => {
            const e = this.byId.get(id);
            return e ? toInstance(e) : known.get(id)!;
          });
          resolve({ applied: [...w.applied.values()], pending });
        },
      };
      this.waiters.add(w);
      const now = this.now();
      for (const id of ids) this.check(w, id, now);
      if (w.pending.size === 0) return w.done();
      timer = setTimeout(w.done, timeoutMs);
    });
  }

  private notify(id: string, now: number): void {
    for (const w of [...this.waiters]) {
      this.check(w, id, now);
      if (w.pending.size === 0) w.done();
    }
  }

  private check(w: Waiter, id: string, now: number): void {
    if (!w.pending.has(id)) return;
    const e = this.byId.get(id);
    if (!e || e.a.seq < w.sequence || now - e.lastSeen > PERIODS_BEFORE_GONE * e.a.period) return;
    w.pending.delete(id);
    w.applied.set(id, toInstance(e));
  }

  private sweep(now: number): void {
    for (const [id, e] of this.byId) {
      if (now - e.lastSeen > PERIODS_BEFORE_GONE * e.a.period) this.byId.delete(id);
    }
  }
}

function toInstance(e: Entry): MeshInstance {
  return {
    instance_id: e.a.id,
    audience: e.a.aud,
    applied_sequence: e.a.seq,
    stale: e.a.stale,
    last_seen_unix_ms: e.lastSeen,
    version: e.a.ver,
    label: e.a.label,
    authenticated: e.a.authenticated,
  };
}
