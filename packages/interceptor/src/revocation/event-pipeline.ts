import { createHash } from 'node:crypto';
import type { KeyStore } from '../jwks/key-store.types.js';
import {
  MAX_REVOCATION_EVENT_BYTES,
  peekRevocationValues,
  readOwnRevocationEvent,
  RevocationEventError,
  verifyRevocationEvents,
} from './event.js';
import type { RevocationSet } from './revocation-set.js';
import type { RevocationEventClaims, RevocationKind } from './revocation.types.js';
import { REVOCATION_SUBJECT_PREFIX, SUBJECT_KIND } from './subjects.js';
import { VerdictCache } from './verdict-cache.js';
import { VerifyBudget } from './verify-budget.js';

/** What the pipeline needs from the feed. */
export interface EventPipelineOptions {
  keys: KeyStore;
  issuer: string;
  set: RevocationSet;
  /** Fetches the stored event at a stream sequence (verification of replayed entries). */
  fetch: (seq: number) => Promise<{ subject: string; data: Uint8Array }>;
  /** Whether a stream sequence has aged out below the stream's first sequence (its entry is moot). */
  agedOut: (seq: number) => boolean;
  /** Unix s until which an entry whose message vanished (deleted, stream lost) is held. */
  holdUntil: () => number;
  /** CPU budget for events that do not verify (default 100 ms per second, burst 250 ms). */
  budget?: VerifyBudget;
  /** Whether an event is, byte for byte, one this process published (no signature check): feed-options.ts. */
  trustedEvent?: ((jws: string) => boolean) | undefined;
}

/** What became of a stream event. */
export type EventOutcome = 'applied' | 'dropped' | 'unknown-kid';

/** Verdicts remembered by event digest: at most this many, each for VERDICT_TTL_MS (see verdict-cache.ts). */
const VERDICTS_MAX = 8192;
/**
 * How long a verdict is remembered: far longer than the core and stream copies of one event are apart
 * (a stream consumer minutes behind in a backlog included), short enough that what is held follows
 * the recent revocation rate instead of growing to the bound.
 */
export const VERDICT_TTL_MS = 10 * 60_000;
/** Largest event accepted, bytes (see MAX_REVOCATION_EVENT_BYTES). */
export const MAX_EVENT_BYTES = MAX_REVOCATION_EVENT_BYTES;

/** JetStream API error codes (nats-server): the message at that sequence does not exist. */
const NO_MESSAGE_FOUND = 10037;

/**
 * Verification and application of revocation events, the feed's trust boundary: nothing reaches the
 * set as a verified entry without a good signature from the issuer's keys. Three ways in: `eager`
 * (stream events, one at a time in stream order), `core` (the core-subscription fast path) and
 * `pending` (replayed entries, fetched by sequence and verified after ready or on first match).
 * Every event's verdict is remembered by digest for VERDICT_TTL_MS, so the core and stream copies of
 * one event, or a forged event replayed again within that time, cost one signature check.
 */
export class EventPipeline {
  applied = 0;
  dropped = 0;
  readonly budget: VerifyBudget;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly verdicts = new VerdictCache<Promise<EventOutcome>>(VERDICTS_MAX, VERDICT_TTL_MS);
  private readonly verifying = new Map<number, Promise<void>>();
  private readonly listeners = new Set<(event: RevocationEventClaims) => void>();

  constructor(private readonly o: EventPipelineOptions) {
    this.budget = o.budget ?? new VerifyBudget();
  }

  /** Registers a listener for applied revocations; returns the unsubscribe. */
  onRevoked(listener: (event: RevocationEventClaims) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A live event from the core subscription: verified and applied now, unless the budget is spent. */
  core(subject: string, data: Uint8Array): void {
    const kind = SUBJECT_KIND.get(subject);
    if (kind === undefined || this.closed || data.byteLength > MAX_EVENT_BYTES) return;
    const jws = Buffer.from(data).toString('latin1');
    const digest = digestOf(kind, jws);
    if (this.verdicts.has(digest)) return;
    if (!this.budget.available()) {
      // Spent on forgeries: leave it to the stream copy (checked in order, waiting for the budget).
      this.budget.throttled++;
      return;
    }
    this.remember(digest, this.verify(jws, kind));
  }

  /** A stream event: verified (sequentially, in stream order) and applied, dropped, or unknown-kid. */
  eager(jws: string, kind: RevocationKind): Promise<EventOutcome> {
    if (jws.length > MAX_EVENT_BYTES) {
      this.dropped++;
      return Promise.resolve('dropped');
    }
    const next = this.chain.then(async (): Promise<EventOutcome> => {
      const digest = digestOf(kind, jws);
      const known = this.verdicts.get(digest);
      if (known !== undefined) {
        const outcome = await known;
        if (outcome === 'dropped') this.dropped++;
        if (outcome !== 'unknown-kid') return outcome;
      }
      // Verifying before the first JWKS loaded would make every event "unknown key".
      await this.o.keys.ready();
      await this.budget.whenAvailable();
      const outcome = this.verify(jws, kind);
      this.remember(digest, outcome);
      const result = await outcome;
      if (result === 'dropped') this.dropped++;
      return result;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Fetches a replayed entry's event by sequence and verifies it: applied if good, the entry dropped if
   * forged or aged out (moot). A message that vanished otherwise (deleted, stream recreated) never
   * un-revokes: the entry is held until its stream could no longer have held it. NATS unreachable or
   * the stream missing: the entry stays pending (fail closed), tried again later.
   */
  pending(kind: 'jti' | 'sid', value: string, seq: number): Promise<void> {
    const inFlight = this.verifying.get(seq);
    if (inFlight) return inFlight;
    const p = (async () => {
      try {
        await this.o.keys.ready();
        let stored: { subject: string; data: Uint8Array };
        try {
          stored = await this.o.fetch(seq);
        } catch (err) {
          if (!isNoMessage(err)) return; // transient: stays pending
          if (this.o.agedOut(seq)) this.o.set.dropPending(kind, value, seq);
          else this.o.set.holdPending(kind, value, seq, this.o.holdUntil());
          return;
        }
        // Another event at that sequence (the stream was recreated and not noticed yet): the entry's
        // own message is gone, which never un-revokes.
        const values =
          stored.subject === REVOCATION_SUBJECT_PREFIX + kind && peekRevocationValues(stored.data);
        if (!values || !values.includes(value)) {
          this.o.set.holdPending(kind, value, seq, this.o.holdUntil());
          return;
        }
        const jws = Buffer.from(stored.data).toString('latin1');
        const digest = digestOf(kind, jws);
        let verdict = this.verdicts.get(digest);
        if (verdict === undefined) {
          await this.budget.whenAvailable();
          verdict = this.verify(jws, kind);
          this.remember(digest, verdict);
        }
        const outcome = await verdict;
        // Unknown key: stays pending (fail closed) until the key arrives or the entry is moot.
        // Applied, every value of a batch is verified with it; forged, every one is dropped.
        if (outcome === 'dropped') {
          for (const v of values) this.o.set.dropPending(kind, v, seq);
          this.dropped++;
        }
      } finally {
        this.verifying.delete(seq);
      }
    })();
    this.verifying.set(seq, p);
    return p;
  }

  /** Stops accepting work (in-flight verifications finish but apply nothing new). */
  close(): void {
    this.closed = true;
    this.verdicts.clear();
  }

  /** One signature check; its time is charged to the budget when the event turns out bad. */
  private async verify(jws: string, kind: RevocationKind): Promise<EventOutcome> {
    const t0 = performance.now();
    try {
      const all = this.o.trustedEvent?.(jws)
        ? readOwnRevocationEvent(jws, this.o.issuer)
        : await verifyRevocationEvents(jws, this.o.keys, this.o.issuer);
      if (all[0]!.kind !== kind)
        throw new RevocationEventError('ERR_EVENT_CLAIMS', 'subject and kind differ');
      if (!this.closed) for (const claims of all) this.apply(claims);
      return 'applied';
    } catch (err) {
      if (isCode(err, 'ERR_EVENT_KID')) return 'unknown-kid';
      this.budget.charge(performance.now() - t0);
      return 'dropped';
    }
  }

  private remember(digest: string, verdict: Promise<EventOutcome>): void {
    // An unknown key is no verdict: the event is checked again once the key set changes.
    verdict.then((v) => v === 'unknown-kid' && this.verdicts.deleteIf(digest, verdict));
    this.verdicts.set(digest, verdict);
  }

  private apply(claims: RevocationEventClaims): void {
    if (!this.o.set.apply(claims)) return;
    // A kid revocation: forget the key at once so no token it signed verifies, even from caches.
    if (claims.kind === 'kid') this.o.keys.remove(claims.value);
    this.applied++;
    for (const listener of this.listeners) {
      try {
        listener(claims);
      } catch {
        // A listener's failure must not stop the feed or the other listeners.
      }
    }
  }
}

/** The `kid` of a compact JWS header without verifying anything; undefined when unreadable. */
export function kidOf(jws: string): string | undefined {
  const dot = jws.indexOf('.');
  if (dot <= 0 || dot > 1024) return undefined;
  try {
    const kid = (JSON.parse(Buffer.from(jws.slice(0, dot), 'base64url').toString()) as { kid?: unknown }).kid;
    return typeof kid === 'string' && kid !== '' && kid.length <= 256 ? kid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A verdict's key: the subject's kind with the event's bytes. A verdict holds for those bytes on that
 * subject only: a genuine event republished on another kind's subject is dropped there, and that must
 * never become the verdict of the genuine copy (it would un-revoke every value it names).
 */
function digestOf(kind: RevocationKind, jws: string): string {
  return createHash('sha256').update(kind).update('\n').update(jws, 'latin1').digest('base64');
}

function isCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | undefined)?.code === code;
}

/** The stream answered that no message is stored at that sequence (not: the stream is missing). */
function isNoMessage(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: unknown } | undefined;
  if (e?.api_error?.err_code !== undefined) return e.api_error.err_code === NO_MESSAGE_FOUND;
  return typeof e?.message === 'string' && /no message found/i.test(e.message);
}
