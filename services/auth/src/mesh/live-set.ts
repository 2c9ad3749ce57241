import type { NatsConnection, Subscription } from 'nats';
import {
  MESH_GOODBYE_SUBJECT,
  MESH_SUBJECT_PREFIX,
  parseAnnouncement,
  type AnnouncementKind,
  type MeshAnnouncement,
} from '@authmesh/interceptor';
import type { AnnouncementVerifier } from './announcement-keys.js';
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
  /**
   * Checks the MAC of attributable announcements (./announcement-keys.ts; needs the KEK). Without it, an
   * announcement's proof is not checked: see `trustClaims`.
   */
  verifier?: AnnouncementVerifier;
  /**
   * Without a verifier only: list an announcement that carries a proof as authenticated, as claimed
   * (`authmesh mesh status`, which shows what the auth replicas verified and has no KEK). Never for a
   * set whose receipts decide anything. Default false: everything is unauthenticated.
   */
  trustClaims?: boolean;
}

interface Entry {
  a: MeshAnnouncement;
  lastSeen: number;
  /** The MAC verified (or, with trustClaims, was claimed): only such announcements update this entry. */
  authenticated: boolean;
}

/**
 * The key of an instance in the set. An authenticated instance is keyed by (client, id): an announcement
 * MACed under another client's key for the same id (any client may ask a key for any id) is another
 * instance, attributed to that client, and never updates this one.
 */
const entryKey = (a: MeshAnnouncement, authenticated: boolean): string =>
  authenticated ? JSON.stringify([a.cid, a.id]) : JSON.stringify([a.id]);

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
 *
 * Attribution (with a `verifier`): an announcement with a valid MAC updates only its (client, id)
 * instance, and only when its counter is above the last one heard (a replayed message, even a genuine
 * one, changes nothing); a goodbye must be MACed as a goodbye to remove it. An announcement without a
 * proof is unauthenticated: it can neither update, confirm nor remove an authenticated instance, and is
 * ignored for an id that an authenticated instance holds (that instance announced before it got its
 * key). A message whose proof fails is dropped (counted in `forged`).
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
  /** Messages dropped: a proof that failed, a counter not newer than heard, or no proof for an authenticated id. */
  forged = 0;
  private readonly verifier: AnnouncementVerifier | undefined;
  private readonly trustClaims: boolean;
  /** Authenticated entries per instance id. */
  private readonly authenticatedIds = new Map<string, number>();

  constructor(options: LiveSetOptions = {}) {
    const max = options.maxInstances ?? DEFAULT_MAX_INSTANCES;
    if (!Number.isInteger(max) || max < 1) throw new TypeError('maxInstances must be a positive integer');
    this.max = max;
    this.now = options.now ?? Date.now;
    this.verifier = options.verifier;
    this.trustClaims = options.trustClaims ?? false;
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
        if (m.subject === MESH_GOODBYE_SUBJECT) this.goodbye(a);
        else this.observe(a);
      },
    });
  }

  close(): void {
    this.sub?.unsubscribe();
    for (const w of [...this.waiters]) w.done();
  }

  /** Records one announcement, heard now (or at `seenAt`, unix ms: a roster entry). */
  observe(announced: MeshAnnouncement, seenAt?: number): void {
    const now = seenAt ?? this.now();
    const accepted = this.accept('announce', announced);
    if (!accepted) return;
    const { a, key } = accepted;
    const entry = this.byId.get(key);
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
      if (a.authenticated) {
        // The instance got its key: its earlier unauthenticated entry is the same instance.
        this.remove(entryKey(a, false));
        this.authenticatedIds.set(a.id, (this.authenticatedIds.get(a.id) ?? 0) + 1);
      }
      this.byId.set(key, { a, lastSeen: now, authenticated: a.authenticated });
    }
    if (this.waiters.size > 0) this.notify(key, now);
  }

  /** A goodbye: the instance leaves at once (an authenticated one only on a goodbye MACed as such). */
  goodbye(announced: MeshAnnouncement): void {
    const accepted = this.accept('goodbye', announced);
    if (accepted) this.remove(accepted.key);
  }

  /**
   * Decides what a message is: authenticated (its proof verified, its counter newer than the entry's),
   * unauthenticated (no proof, and no authenticated instance holds its id), or dropped (undefined).
   */
  private accept(
    kind: AnnouncementKind,
    announced: MeshAnnouncement,
  ): { a: MeshAnnouncement; key: string } | undefined {
    if (announced.mac !== undefined) {
      const valid = this.verifier ? this.verifier.verify(kind, announced) : this.trustClaims;
      if (!valid && this.verifier) {
        this.forged++;
        return undefined;
      }
      // Unverifiable here (no KEK, claims not trusted): listed like any unauthenticated announcement.
      if (!valid) return this.unauthenticated(announced);
      const a = { ...announced, authenticated: true };
      const key = entryKey(a, true);
      const entry = this.byId.get(key);
      if (entry && (entry.a.n ?? 0) >= (a.n ?? 0)) {
        this.forged++;
        return undefined;
      }
      return { a, key };
    }
    return this.unauthenticated(announced);
  }

  private unauthenticated(announced: MeshAnnouncement): { a: MeshAnnouncement; key: string } | undefined {
    if (this.authenticatedIds.has(announced.id)) {
      this.forged++;
      return undefined;
    }
    const { cid: _cid, n: _n, mac: _mac, ...rest } = announced;
    const a = { ...rest, authenticated: false };
    return { a, key: entryKey(a, false) };
  }

  private remove(key: string): void {
    const e = this.byId.get(key);
    if (!e) return;
    this.byId.delete(key);
    if (!e.authenticated) return;
    const left = (this.authenticatedIds.get(e.a.id) ?? 1) - 1;
    if (left > 0) this.authenticatedIds.set(e.a.id, left);
    else this.authenticatedIds.delete(e.a.id);
  }

  /** The live announcements as last heard, for a roster reply. */
  entries(): { a: MeshAnnouncement; seen: number }[] {
    this.sweep(this.now());
    return [...this.byId.values()].map((e) => ({ a: e.a, seen: e.lastSeen }));
  }

  /** The keys of the instances live now (opaque: for `waitApplied`). */
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
        known.set(id, e ? toInstance(e) : { instance_id: instanceIdOf(id) });
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
    for (const [key, e] of this.byId) {
      if (now - e.lastSeen > PERIODS_BEFORE_GONE * e.a.period) this.remove(key);
    }
  }
}

/** The instance id in an entry key (the key itself when it is not one). */
function instanceIdOf(key: string): string {
  try {
    const parts = JSON.parse(key) as unknown;
    if (Array.isArray(parts) && typeof parts.at(-1) === 'string') return parts.at(-1) as string;
  } catch {
    // not an entry key
  }
  return key;
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
    authenticated: e.authenticated,
    client_id: e.authenticated ? (e.a.cid ?? '') : '',
  };
}
