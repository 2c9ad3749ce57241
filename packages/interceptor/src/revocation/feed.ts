import type { JetStreamManager, NatsConnection, StreamInfo, Subscription } from 'nats';
import { peekRevocationValues } from './event.js';
import { EventPipeline, kidOf, type EventOutcome } from './event-pipeline.js';
import { connectFeed, watchReconnects } from './feed-connection.js';
import { parseFeedOptions, type ParsedFeedOptions, type RevocationFeedOptions } from './feed-options.js';
import { ParkedEvents } from './parked-events.js';
import { PendingVerifier } from './pending-verifier.js';
import { ReplayProgress } from './replay-progress.js';
import { RevocationSet } from './revocation-set.js';
import type {
  RevocationEventClaims,
  RevocationFeed,
  RevocationKind,
  RevocationSubject,
} from './revocation.types.js';
import { StalenessClock } from './staleness-clock.js';
import { nextStoredSequence, StreamConsumer } from './stream-consumer.js';
import { StreamIdentity } from './stream-identity.js';
import { REVOCATION_SUBJECT_PREFIX, SUBJECT_KIND } from './subjects.js';
import { KeysRotatedListener } from './keys-rotated.js';
import { MeshAnnouncer } from '../mesh/announcer.js';

export { REVOCATION_STREAM, REVOCATION_SUBJECT_PREFIX, KEYS_ROTATED_SUBJECT } from './subjects.js';

/** Counters of a feed, for metrics and health. */
export interface RevocationFeedStats {
  /** Verified events that changed the set. */
  applied: number;
  /** Events dropped: malformed, unsigned, badly signed, forged kid, subject/kind mismatch. */
  droppedEvents: number;
  /** Replayed entries not verified yet (verified in the background after ready, or when a token matches one). */
  pending: number;
  /** Entries held. */
  entries: number;
  /** Time from the start of the replay until `ready()` (ms); undefined before. */
  replayMs: number | undefined;
  /** Stream sequence of the last event consumed. */
  lastSequence: number;
  /** Every stream sequence up to here is applied, dropped as invalid, or gone. */
  appliedSequence: number;
  /** Stream messages consumed (each sequence once): equals `lastSequence` when nothing was skipped. */
  consumed: number;
  /** How many times the feed re-created its consumer itself (stream recreated, stuck consumer). */
  consumerRestarts: number;
  /** Stream events signed by a key not known yet; each holds `appliedSequence` below it (bounded). */
  parked: number;
  /** Verifications skipped or delayed because the CPU budget for bad events was spent. */
  throttledEvents: number;
  /** ms since the feed was last known current (Infinity if never). */
  stalenessMs: number;
}

/** The feed returned by {@link createRevocationFeed}: the `RevocationFeed` interface plus counters. */
export interface NatsRevocationFeed extends RevocationFeed {
  /**
   * The definitive verdict: like `isRevoked`, but a match on a replayed entry not verified yet waits
   * for its verification (one stream fetch + one signature check), so a forged event never rejects.
   */
  confirm(token: RevocationSubject): Promise<boolean>;
  stats(): RevocationFeedStats;
  readonly droppedEvents: number;
}

/** Timeout of stream info and message reads, ms. */
const CHECK_TIMEOUT_MS = 750;
/** After a reconnect, the consumer and stream check are retried this often, this many times. */
const RESUME_RETRY_MS = 100;
const RESUME_ATTEMPTS = 50;
/** Parked events kept per class (see ParkedEvents). */
const PARK_LIMITS = { announced: 256, other: 4096 };
/**
 * A parked event is found forged only by a JWKS fetch started at least this long after it was parked,
 * ms: the replica that rotated signs with its new key at once, while the replica a JWKS request reaches
 * may serve the old ring until its KV watch delivers the new one. A forged event holds the feed this
 * much longer (well under the default 30 s staleness bound).
 */
const FORGED_AFTER_MS = 2000;
/** Without a key store that reports its loads, a parked event is given up after this long, ms. */
const PARK_MAX_AGE_MS = 5 * 60_000;

/**
 * Starts a revocation feed: replays `AUTHMESH_REVOCATIONS` from its first message, then consumes live
 * events, resuming after a disconnect or server restart from the last consumed sequence (no gap).
 *
 * Trust: every event is a JWS checked against `keys`. Live events are verified before they apply.
 * Replayed `jti`/`sid` events (the bulk) are stored as pending so that ready is fast, then verified in
 * the background; until then `isRevoked` fails closed for a matching token and `confirm()` gives the
 * verified answer. A revocation once seen is dropped only when moot (past its `exp`, or aged out of
 * the stream), never because its message vanished.
 *
 * @example
 * const feed = createRevocationFeed({ servers: process.env.NATS_URL, keys, issuer });
 * await feed.ready();
 */
export function createRevocationFeed(options: RevocationFeedOptions): NatsRevocationFeed {
  return new Feed(parseFeedOptions(options));
}

class Feed implements NatsRevocationFeed {
  readonly stalePolicy: 'reject' | 'allow';
  private readonly set: RevocationSet;
  private readonly pipeline: EventPipeline;
  private readonly progress = new ReplayProgress();
  private readonly clock: StalenessClock;
  private readonly parked = new ParkedEvents(PARK_LIMITS);
  private readonly identity = new StreamIdentity();
  private readonly verifier: PendingVerifier;
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private consumer: StreamConsumer | undefined;
  private readonly subs: Subscription[] = [];
  private rotated: KeysRotatedListener | undefined;
  private stopWatching: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private checking = false;
  private behindSince: number | undefined;
  /** `progress.consumed` when `behindSince` was set. */
  private behindAt = 0;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private readyFlag = false;
  private startedAt = 0;
  private replayMs: number | undefined;
  /** Tells the auth service (authmesh.mesh.>) what this feed has applied; see ../mesh/announcer.ts. */
  private readonly announcer: MeshAnnouncer;

  constructor(private readonly o: ParsedFeedOptions) {
    this.stalePolicy = o.stalePolicy;
    this.announcer = new MeshAnnouncer({
      audience: o.audience,
      periodMs: o.announceIntervalMs,
      ...(o.meshKey ? { key: o.meshKey } : {}),
      state: {
        appliedSequence: () => this.progress.applied,
        isStale: () => this.clock.isStale(),
        epoch: () => this.set.epoch,
      },
    });
    this.clock = new StalenessClock(o.maxStalenessMs);
    this.set = new RevocationSet({
      graceSec: o.graceSec,
      onPendingHit: (kind, value, seq) => void this.pipeline.pending(kind, value, seq),
    });
    this.pipeline = new EventPipeline({
      keys: o.keys,
      issuer: o.issuer,
      set: this.set,
      fetch: (seq) => {
        if (!this.jsm) return Promise.reject(new Error('not connected'));
        return this.jsm.streams.getMessage(this.o.stream, { seq });
      },
      agedOut: (seq) => this.progress.agedOut(seq),
      holdUntil: () => this.identity.holdUntil(Math.floor(Date.now() / 1000)),
      trustedEvent: o.trustedEvent,
    });
    this.verifier = new PendingVerifier(
      this.set,
      (e) => this.pipeline.pending(e.kind, e.value, e.seq),
      o.pendingVerifyPerSec,
      () => this.nc !== undefined && !this.nc.isClosed() && this.pipeline.budget.available(),
    );
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // A caller may never await ready(); its rejection on close must not crash the process.
    this.readyPromise.catch(() => {});
    this.start().catch((err: unknown) => {
      if (!this.closed) this.rejectReady(new Error('revocation feed failed to start', { cause: err }));
    });
  }

  get epoch(): number {
    return this.set.epoch;
  }

  get droppedEvents(): number {
    return this.pipeline.dropped;
  }

  /** The longest clock tolerance a verifier may use with this feed: entries outlive their exp by this much. */
  get graceSec(): number {
    return this.o.graceSec;
  }

  isRevoked(token: RevocationSubject): boolean {
    return this.set.isRevoked(token);
  }

  async confirm(token: RevocationSubject): Promise<boolean> {
    if (!this.set.isRevoked(token)) return false;
    const pending = this.set.pendingMatches(token);
    if (pending.length === 0) return true;
    await Promise.all(pending.map((p) => this.pipeline.pending(p.kind, p.value, p.seq)));
    return this.set.isRevoked(token);
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  isReady(): boolean {
    return this.readyFlag;
  }

  isStale(): boolean {
    return this.clock.isStale();
  }

  onRevoked(listener: (event: RevocationEventClaims) => void): () => void {
    return this.pipeline.onRevoked(listener);
  }

  stats(): RevocationFeedStats {
    return {
      applied: this.pipeline.applied,
      droppedEvents: this.pipeline.dropped,
      pending: this.set.pending,
      entries: this.set.size,
      replayMs: this.replayMs,
      lastSequence: this.progress.consumed,
      appliedSequence: this.progress.applied,
      consumed: this.progress.count,
      consumerRestarts: this.consumer?.restarts ?? 0,
      parked: this.parked.size,
      throttledEvents: this.pipeline.budget.throttled,
      stalenessMs: this.clock.stalenessMs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.announcer.close();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.verifier.stop();
    this.set.close();
    this.pipeline.close();
    this.parked.clear();
    this.rotated?.close();
    if (!this.readyFlag) this.rejectReady(new Error('revocation feed closed before it was ready'));
    this.consumer?.stop();
    for (const s of this.subs) s.unsubscribe();
    this.stopWatching?.();
    if (this.nc && !this.o.connection) await this.nc.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async start(): Promise<void> {
    const nc = this.o.connection ?? (await connectFeed(this.o.servers, this.o.name));
    this.nc = nc;
    if (this.closed) {
      if (!this.o.connection) await nc.close();
      return;
    }
    this.stopWatching = watchReconnects(nc, () => void this.resume());
    // Fast path for live events: a core subscription sees each publish at once, even while the JetStream
    // consumer is being re-created (a cluster electing a leader). The stream stays the source of truth
    // (replay, resume, no gap); an event seen here first is verified once and skipped there.
    if (this.o.coreFastPath) {
      this.subs.push(
        nc.subscribe(`${REVOCATION_SUBJECT_PREFIX}>`, {
          callback: (err, m) => {
            if (err === null) this.pipeline.core(m.subject, m.data);
          },
        }),
      );
    }
    this.rotated = new KeysRotatedListener(nc, this.o.keys, (kid) => this.parked.announce(kid));
    // The auth service creates the stream; until it has, wait for it (not an error).
    let info: StreamInfo;
    let t: number;
    for (;;) {
      if (this.closed) return;
      try {
        // Stream info and message reads answer in milliseconds; a request lost to a restarting server
        // should be retried soon rather than waited for (the check runs every second anyway).
        // No account-info probe (checkAPI): the stream info below answers the same question, one round
        // trip fewer before the replay starts.
        this.jsm ??= await nc.jetstreamManager({ timeout: CHECK_TIMEOUT_MS, checkAPI: false });
        t = performance.now();
        info = await this.jsm.streams.info(this.o.stream);
        break;
      } catch {
        await delay(250);
      }
    }
    this.identity.adopt(info);
    this.progress.reset(info.state.first_seq, info.state.last_seq);
    this.clock.restart(t, info.state.last_seq);
    this.startedAt = performance.now();
    this.consumer = new StreamConsumer(nc, this.o.stream, (seq, subject, data) =>
      this.onMessage(seq, subject, data),
    );
    await this.consumer.start(1);
    this.settle();
    this.announcer.start(nc);
    this.timer = setInterval(() => void this.check(), this.o.checkIntervalMs);
    this.timer.unref();
  }

  private onMessage(seq: number, subject: string, data: Uint8Array): void {
    if (!this.progress.deliver(seq)) return;
    const kind = SUBJECT_KIND.get(subject);
    if (kind === undefined) {
      this.pipeline.dropped++;
      this.settle();
      return;
    }
    if (seq <= this.progress.target && (kind === 'jti' || kind === 'sid')) {
      // Replay fast path: store the entry as pending; its signature is checked in the background
      // after ready, or when a token first matches it (subject/kind/value are checked then).
      const values = peekRevocationValues(data);
      if (values === undefined) {
        this.pipeline.dropped++;
        this.settle();
        return;
      }
      if (
        values.length === 1
          ? this.set.addPending(kind, values[0]!, seq)
          : this.set.addPendingBatch(kind, values, seq)
      ) {
        this.settle();
        return;
      }
    }
    // Live events, low-volume kinds and duplicates of a held key: verify before applying.
    this.verifyInOrder(Buffer.from(data).toString('latin1'), seq, kind);
  }

  /** Verifies a stream event; the applied horizon stays below it until it settles or parks. */
  private verifyInOrder(jws: string, seq: number, kind: RevocationKind): void {
    const gen = this.progress.generation;
    this.progress.hold(seq);
    void this.pipeline.eager(jws, kind).then((outcome: EventOutcome) => {
      if (gen !== this.progress.generation) return;
      if (outcome === 'unknown-kid') this.park(seq, jws, kind);
      this.progress.release(gen, seq);
      this.settle();
    });
  }

  private park(seq: number, jws: string, kind: RevocationKind): void {
    const kid = kidOf(jws) ?? '';
    this.parked.add(seq, jws, kind, kid, performance.now());
    this.progress.setFloor(this.parked.floor());
  }

  /** After progress: caught up with the latest mark → current; the first time → ready. */
  private settle(): void {
    // Replay progress is left to the regular period: announcing every 5 ms of a long replay costs a
    // socket write each (~1,800 in a 100k replay), which on a loaded machine was its largest CPU item.
    if (this.readyFlag) this.announcer.changed();
    if (this.closed) return;
    // Credits the latest mark reached, not only the newest: a feed behind by a steady second or two
    // of events is that far behind, not stale forever (staleness-clock.ts).
    this.clock.caughtUp((end) => this.progress.caughtUp(end));
    if (!this.progress.caughtUp(this.clock.end)) return;
    if (this.readyFlag || !this.consumer?.started) return;
    this.readyFlag = true;
    this.announcer.changed();
    this.replayMs = performance.now() - this.startedAt;
    this.resolveReady();
    this.verifier.start();
  }

  /**
   * Parked events: applied once their key is known; dropped as forged once a JWKS whose fetch started
   * FORGED_AFTER_MS after they were parked still lacks it (`loadedAt` is when the last good load
   * started: an answer in flight when the event parked says nothing about it); otherwise a lookup asks
   * for the key (the key store rate-limits fetches).
   * When every parked event has settled, events that found no room are re-read from the stream.
   */
  private retryParked(): void {
    const keys = this.o.keys;
    for (const p of this.parked.events()) {
      if (p.retrying) continue;
      if (keys.eventKey?.(p.kid) ?? keys.get(p.kid)) {
        p.retrying = true;
        void this.pipeline.eager(p.jws, p.kind).then((outcome) => {
          p.retrying = false;
          if (outcome !== 'unknown-kid') this.unpark(p.seq);
        });
      } else if (
        keys.loadedAt !== undefined
          ? keys.loadedAt > p.parkedAt + FORGED_AFTER_MS
          : performance.now() - p.parkedAt > PARK_MAX_AGE_MS
      ) {
        this.pipeline.dropped++;
        this.unpark(p.seq);
      }
    }
    const first = this.parked.events().find((p) => !p.retrying);
    if (first) void (keys.resolveEventKey ? keys.resolveEventKey(first.kid) : keys.resolve(first.kid));
    if (this.parked.size === 0 && this.parked.overflowFrom !== undefined && this.consumer) {
      const from = this.parked.overflowFrom;
      this.parked.overflowFrom = undefined;
      this.progress.rewind(from);
      void this.consumer.restart(from, true);
    }
    this.progress.setFloor(this.parked.floor());
  }

  private unpark(seq: number): void {
    this.parked.remove(seq);
    this.progress.setFloor(this.parked.floor());
    this.settle();
  }

  /**
   * After a reconnect: re-create the consumer from where we are and check the stream at once, retrying
   * every 100 ms for a few seconds while JetStream is not answering yet (a restarted server, a cluster
   * electing a leader), so the feed is current again within a fraction of a second of NATS being back.
   */
  private async resume(): Promise<void> {
    let consumerOk = !this.consumer?.started;
    let checked = false;
    for (let i = 0; i < RESUME_ATTEMPTS && !this.closed && !(consumerOk && checked); i++) {
      if (i > 0) await delay(RESUME_RETRY_MS);
      // Side by side: a consumer create lost to a server still starting must not delay the check
      // that makes the feed current again (live events meanwhile arrive on the core subscription).
      [consumerOk, checked] = await Promise.all([
        consumerOk || this.consumer!.restart(this.progress.consumed + 1, true),
        checked || this.check(),
      ]);
    }
  }

  /**
   * Periodic cheap check (stream info): keeps the staleness clock, follows a recreated or aged stream,
   * unsticks the consumer. True when the stream answered.
   */
  private async check(): Promise<boolean> {
    if (this.checking || this.closed || !this.jsm || !this.consumer) return false;
    this.retryParked();
    this.checking = true;
    const t = performance.now();
    // What had been delivered when the request left: the answer is generated after that, so its last
    // sequence is at least this on the same stream. Deliveries made while it travels can overtake it,
    // and comparing with those read a burst as a stream whose sequences went back (a recreated stream:
    // the feed started over from sequence 1, again and again under a bulk revocation).
    const consumedAtRequest = this.progress.consumed;
    try {
      const info = await this.jsm.streams.info(this.o.stream);
      if (this.closed) return true;
      const { first_seq: first, last_seq: last } = info.state;
      if (this.identity.isNew(info, consumedAtRequest)) {
        this.recreated(info, t);
        return true;
      }
      this.identity.adopt(info);
      this.agedOut(first);
      this.clock.setMark(t, last);
      this.settle();
      if (this.progress.caughtUp(last)) {
        this.behindSince = undefined;
        return true;
      }
      if (this.progress.consumed < last) await this.notDelivered(last, t);
      return true;
    } catch {
      // NATS unreachable or the stream missing: the feed is not known current; staleness grows.
      return false;
    } finally {
      this.checking = false;
    }
  }

  /** Messages below the stream's first sequence aged out: pending entries and parked events there are moot. */
  private agedOut(first: number): void {
    this.progress.setFirst(first);
    this.set.sweepPendingBelow(first);
    if (this.parked.dropBelow(first) > 0) this.progress.setFloor(this.parked.floor());
  }

  /**
   * The stream holds sequences the consumer has not delivered. Either they were deleted (nothing left
   * to wait for: skip to the end) or the consumer is stuck (nothing delivered for seconds while the stream
   * answers: re-create it from where we are; not awaited, the clock must keep running meanwhile).
   */
  private async notDelivered(last: number, t: number): Promise<void> {
    const next = await nextStoredSequence(
      this.nc!,
      this.o.stream,
      this.progress.consumed + 1,
      `${REVOCATION_SUBJECT_PREFIX}>`,
    );
    if (next === undefined || next > last) {
      this.progress.skipTo(last);
      this.settle();
      return;
    }
    // Stuck means no delivery for a while, not "behind": a long replay (1M events) is behind for
    // seconds while delivering all along, and re-creating its consumer would only slow it down.
    if (this.behindSince === undefined || this.progress.consumed !== this.behindAt) {
      this.behindSince = t;
      this.behindAt = this.progress.consumed;
    } else if (t - this.behindSince > Math.max(2 * this.o.checkIntervalMs, 2000)) {
      this.behindSince = undefined;
      void this.consumer!.restart(this.progress.consumed + 1);
    }
  }

  /**
   * The stream was deleted and recreated: its sequences start again, so the feed starts over on it
   * (a new replay target). Entries still pending point into the old stream and can never be fetched:
   * they are held until that stream could no longer have held them (losing storage never un-revokes).
   * Parked events keep waiting for their key, without holding the new stream's sequences.
   */
  private recreated(info: StreamInfo, t: number): void {
    this.set.holdAllPending(this.identity.holdUntil(Math.floor(Date.now() / 1000)));
    this.parked.orphan();
    this.identity.adopt(info);
    this.progress.reset(info.state.first_seq, info.state.last_seq);
    this.progress.setFloor(Infinity);
    this.clock.restart(t, info.state.last_seq);
    this.behindSince = undefined;
    void this.consumer!.restart(1, true);
    this.settle();
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
