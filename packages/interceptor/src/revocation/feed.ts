import {
  connect,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type Subscription,
} from 'nats';
import { peekRevocationValue } from './event.js';
import { EventPipeline } from './event-pipeline.js';
import { parseFeedOptions, type ParsedFeedOptions, type RevocationFeedOptions } from './feed-options.js';
import { RevocationSet } from './revocation-set.js';
import type { RevocationEventClaims, RevocationFeed, RevocationSubject } from './revocation.types.js';
import { KEYS_ROTATED_SUBJECT, REVOCATION_SUBJECT_PREFIX, SUBJECT_KIND } from './subjects.js';

export { REVOCATION_STREAM, REVOCATION_SUBJECT_PREFIX, KEYS_ROTATED_SUBJECT } from './subjects.js';

/** Counters of a feed, for metrics and health. */
export interface RevocationFeedStats {
  /** Verified events that changed the set. */
  applied: number;
  /** Events dropped: malformed, unsigned, badly signed, unknown key, subject/kind mismatch. */
  droppedEvents: number;
  /** Replayed entries not verified yet (verified when a token first matches one). */
  pending: number;
  /** Entries held. */
  entries: number;
  /** Time from the start of the replay until `ready()` (ms); undefined before. */
  replayMs: number | undefined;
  /** Stream sequence of the last event consumed. */
  lastSequence: number;
  /** Stream messages consumed (each sequence once): equals `lastSequence` when nothing was skipped. */
  consumed: number;
  /** How many times the feed re-created its consumer itself (stream recreated, stuck consumer). */
  consumerRestarts: number;
  /** Live events signed by a key not known yet, waiting for the key set to change (bounded). */
  parked: number;
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

/**
 * Starts a revocation feed: replays `AUTHMESH_REVOCATIONS` from its first message, then consumes live
 * events, resuming after a disconnect or server restart from the last consumed sequence (no gap).
 *
 * Trust: every event is a JWS checked against `keys`. Live events are verified before they apply.
 * Replayed `jti`/`sid` events (the bulk) are stored as pending and verified the first time a token
 * matches one; until then `isRevoked` fails closed for that token and `confirm()` gives the verified answer.
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
  private nc: NatsConnection | undefined;
  private jsm: JetStreamManager | undefined;
  private messages: ConsumerMessages | undefined;
  private rotatedSub: Subscription | undefined;
  private liveSub: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private checking = false;
  private consumerGen = 0;
  /** Highest sequence consumed, and highest one whose processing (incl. verification) finished. */
  private lastSeq = 0;
  private processedSeq = 0;
  private replayTarget = 0;
  private streamCreated: string | undefined;
  private firstSeqSeen = 0;
  /** "At time t the stream ended at seq": once processedSeq reaches seq, we were current at t. */
  private mark: { t: number; seq: number } | undefined;
  private lastCurrentMs = 0;
  private behindSinceMs: number | undefined;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private readyFlag = false;
  private startedAt = 0;
  private replayMs: number | undefined;
  private consumerRestarts = 0;
  private consumed = 0;
  private restarting: { since: number; done: Promise<void> } | undefined;
  private statusIter: { stop(): void } | undefined;

  constructor(private readonly o: ParsedFeedOptions) {
    this.stalePolicy = o.stalePolicy;
    this.set = new RevocationSet({
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
      onProcessed: (seq) => this.processed(seq),
    });
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
    return Date.now() - this.lastCurrentMs > this.o.maxStalenessMs;
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
      lastSequence: this.lastSeq,
      consumed: this.consumed,
      consumerRestarts: this.consumerRestarts,
      parked: this.pipeline.parkedCount,
      stalenessMs: this.lastCurrentMs === 0 ? Infinity : Date.now() - this.lastCurrentMs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.set.close();
    this.pipeline.close();
    if (!this.readyFlag) this.rejectReady(new Error('revocation feed closed before it was ready'));
    this.messages?.stop();
    this.rotatedSub?.unsubscribe();
    this.liveSub?.unsubscribe();
    this.statusIter?.stop();
    if (this.nc && !this.o.connection) await this.nc.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async start(): Promise<void> {
    const nc =
      this.o.connection ??
      (await connect({
        ...this.o.servers,
        name: this.o.name,
        // Keep trying: a service may start before NATS, and must ride out any outage.
        waitOnFirstConnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        pingInterval: 5000,
      }));
    this.nc = nc;
    if (this.closed) {
      if (!this.o.connection) await nc.close();
      return;
    }
    this.watchConnection(nc);
    // Fast path for live events: a core subscription sees each publish at once, even while the JetStream
    // consumer is being re-created (a cluster electing a leader). The stream stays the source of truth
    // (replay, resume, no gap); an event seen here first is verified once and skipped there.
    if (this.o.coreFastPath) {
      this.liveSub = nc.subscribe(`${REVOCATION_SUBJECT_PREFIX}>`, {
        callback: (err, m) => {
          if (err === null) this.pipeline.core(m.subject, m.data);
        },
      });
    }
    this.rotatedSub = nc.subscribe(KEYS_ROTATED_SUBJECT, {
      callback: () => {
        this.o.keys.refresh().catch(() => {});
      },
    });
    // The auth service creates the stream; until it has, wait for it (not an error).
    for (;;) {
      if (this.closed) return;
      try {
        this.jsm ??= await nc.jetstreamManager({ timeout: API_TIMEOUT_MS });
        const info = await this.jsm.streams.info(this.o.stream);
        this.replayTarget = info.state.last_seq;
        this.streamCreated = info.created;
        this.firstSeqSeen = info.state.first_seq;
        this.mark = { t: Date.now(), seq: info.state.last_seq };
        break;
      } catch {
        await delay(250);
      }
    }
    this.startedAt = performance.now();
    await this.startConsumer(1);
    this.maybeReady();
    this.timer = setInterval(() => void this.check(), this.o.checkIntervalMs);
    this.timer.unref();
  }

  /**
   * After a reconnect, re-create the consumer from the last consumed sequence at once. The ordered
   * consumer heals itself after a plain server restart, but when the node that held it is gone (a
   * cluster losing a node) it can take many seconds; an explicit restart is cheap and gap-free.
   */
  private watchConnection(nc: NatsConnection): void {
    const status = nc.status();
    this.statusIter = status as unknown as { stop(): void };
    void (async () => {
      for await (const s of status) {
        if (this.closed) break;
        if (s.type === 'reconnect' && this.consumerGen > 0) void this.restartConsumer();
      }
    })().catch(() => {});
  }

  /** Re-creates the consumer from the last consumed sequence; one at a time, a stuck attempt is superseded. */
  private restartConsumer(): Promise<void> {
    const now = Date.now();
    if (this.restarting && now - this.restarting.since < RESTART_SUPERSEDE_MS) return this.restarting.done;
    this.consumerRestarts++;
    this.behindSinceMs = undefined;
    const done = this.startConsumer(this.lastSeq + 1)
      .catch(() => {
        // Not reachable yet (e.g. a cluster electing a new leader): the periodic check retries.
      })
      .finally(() => {
        if (this.restarting?.done === done) this.restarting = undefined;
      });
    this.restarting = { since: now, done };
    return done;
  }

  /** (Re)creates the ordered consumer from `fromSeq`; messages of older consumers are ignored. */
  private async startConsumer(fromSeq: number): Promise<void> {
    const gen = ++this.consumerGen;
    this.messages?.stop();
    this.messages = undefined;
    // Short API timeouts: after a node loss the next attempt should come within seconds, not tens.
    const js = this.nc!.jetstream({ timeout: API_TIMEOUT_MS });
    const consumer = await js.consumers.get(this.o.stream, { opt_start_seq: fromSeq });
    if (this.closed || gen !== this.consumerGen) return;
    // Short pulls: heartbeats (expires / 2) then notice a dead consumer within seconds, and the ordered
    // consumer re-creates itself from the last stream sequence it delivered.
    this.messages = await consumer.consume({
      max_messages: 2000,
      expires: 2000,
      callback: (m: JsMsg) => {
        if (gen === this.consumerGen) this.onMessage(m);
      },
    });
    if (this.closed) this.messages.stop();
  }

  private onMessage(m: JsMsg): void {
    const seq = m.seq;
    // A re-created consumer may redeliver what we already have.
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.consumed++;
    const kind = SUBJECT_KIND.get(m.subject);
    if (kind === undefined) {
      this.pipeline.dropped++;
      this.processed(seq);
      return;
    }
    if (seq <= this.replayTarget && (kind === 'jti' || kind === 'sid')) {
      // Replay fast path: store the entry as pending; its signature is checked when a token first
      // matches it (the subject/kind/value are checked against the signed payload then).
      const value = peekRevocationValue(m.data);
      if (value === undefined) {
        this.pipeline.dropped++;
        this.processed(seq);
        return;
      }
      if (this.set.addPending(kind, value, seq)) {
        this.processed(seq);
        return;
      }
    }
    // Live events, low-volume kinds and duplicates of a held key: verify before applying.
    this.pipeline.eager(Buffer.from(m.data).toString('latin1'), seq, kind);
  }

  private processed(seq: number): void {
    // Verification is sequential, so once nothing is queued everything consumed is processed.
    if (this.pipeline.queued === 0) this.processedSeq = Math.max(this.processedSeq, seq, this.lastSeq);
    this.maybeReady();
    this.updateCurrent();
  }

  private maybeReady(): void {
    if (this.readyFlag || this.closed || this.processedSeq < this.replayTarget || this.pipeline.queued > 0)
      return;
    if (this.consumerGen === 0) return;
    this.readyFlag = true;
    this.replayMs = performance.now() - this.startedAt;
    this.lastCurrentMs = Math.max(this.lastCurrentMs, this.mark?.t ?? Date.now());
    this.resolveReady();
  }

  private updateCurrent(): void {
    if (this.readyFlag && this.mark && this.processedSeq >= this.mark.seq) {
      this.lastCurrentMs = Math.max(this.lastCurrentMs, this.mark.t);
    }
  }

  /** Periodic cheap check (stream info): keeps the staleness clock, notices a recreated stream or a stuck consumer. */
  private async check(): Promise<void> {
    if (this.checking || this.closed || !this.jsm) return;
    this.pipeline.retryParked();
    this.checking = true;
    const t = Date.now();
    try {
      const info = await this.jsm.streams.info(this.o.stream);
      if (this.closed) return;
      const { first_seq: firstSeq, last_seq: lastSeq } = info.state;
      if (info.created !== this.streamCreated || lastSeq < this.lastSeq) {
        // The stream was deleted and recreated: its sequences start again, so replay it from the start.
        // Pending entries pointed into the old stream and can never be verified now.
        this.streamCreated = info.created;
        this.set.sweepPendingBelow(Infinity);
        this.lastSeq = 0;
        this.processedSeq = 0;
        this.firstSeqSeen = firstSeq;
        this.mark = { t, seq: lastSeq };
        this.consumerRestarts++;
        void this.startConsumer(1).catch(() => {
          // Retried by the watchdog below on a later check (we are behind the new stream).
        });
        return;
      }
      if (firstSeq > this.firstSeqSeen) {
        // Messages aged out of the stream (max_age): pending entries pointing at them are moot.
        this.firstSeqSeen = firstSeq;
        this.set.sweepPendingBelow(firstSeq);
      }
      this.mark = { t, seq: lastSeq };
      this.updateCurrent();
      if (this.lastSeq >= lastSeq) {
        this.behindSinceMs = undefined;
      } else if (this.behindSinceMs === undefined) {
        this.behindSinceMs = t;
      } else if (t - this.behindSinceMs > Math.max(2 * this.o.checkIntervalMs, 2000)) {
        // Behind for seconds while the stream answers: the consumer is stuck; re-create it from where we are.
        // Not awaited: the staleness clock must keep running while a new consumer is being set up.
        void this.restartConsumer();
      }
    } catch {
      // NATS unreachable: the feed simply is not known current; staleness grows.
    } finally {
      this.checking = false;
    }
  }
}

/** JetStream API timeout of the feed's own requests (stream info, consumer create), ms. */
const API_TIMEOUT_MS = 2000;
/** A consumer restart still pending after this long may be superseded by a new one, ms. */
const RESTART_SUPERSEDE_MS = 6000;

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
