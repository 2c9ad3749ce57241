import type { KeyStore } from '../jwks/key-store.types.js';
import { RevocationEventError, verifyRevocationEvent } from './event.js';
import type { RevocationSet } from './revocation-set.js';
import type { RevocationEventClaims, RevocationKind } from './revocation.types.js';
import { REVOCATION_SUBJECT_PREFIX, SUBJECT_KIND } from './subjects.js';

/** What the pipeline needs from the feed. */
export interface EventPipelineOptions {
  keys: KeyStore;
  issuer: string;
  set: RevocationSet;
  /** Fetches the stored event at a stream sequence (lazy verification of replayed entries). */
  fetch: (seq: number) => Promise<{ subject: string; data: Uint8Array }>;
  /** Called once a stream event was verified and applied, dropped or parked. */
  onProcessed: (seq: number) => void;
}

/** Live events signed by an unknown key are kept this long, at most this many, waiting for the key. */
const PARK_MAX_AGE_MS = 5 * 60_000;
const PARK_MAX = 1000;
/** Live events remembered between their core delivery and their stream delivery. */
const RECENT_MAX = 4096;
/**
 * Largest event accepted, bytes. A real one is well under 10 KiB (value ≤ 512 and reason ≤ 200
 * characters); anyone able to publish on NATS could otherwise make `recent` and `parked` hold up to
 * NATS's max payload (1 MiB) per slot.
 */
export const MAX_EVENT_BYTES = 16 * 1024;

/**
 * Verification and application of revocation events, the feed's trust boundary: nothing reaches the
 * set as a verified entry without a good signature from the issuer's keys. Three ways in:
 * `eager` (stream events, in order), `core` (the core-subscription fast path) and `pending`
 * (replayed entries, verified on first match).
 */
export class EventPipeline {
  applied = 0;
  dropped = 0;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private queuedCount = 0;
  private parked: Array<{ jws: string; seq: number; kind: RevocationKind; parkedAt: number }> = [];
  private parkedKeysEpoch = 0;
  /** Events (JWS strings) seen on the core subscription → whether they verified; oldest first, bounded. */
  private readonly recent = new Map<string, Promise<boolean>>();
  private readonly verifying = new Map<number, Promise<void>>();
  private readonly listeners = new Set<(event: RevocationEventClaims) => void>();

  constructor(private readonly o: EventPipelineOptions) {}

  /** Stream events accepted but not yet verified. */
  get queued(): number {
    return this.queuedCount;
  }

  /** Live events waiting for their (unknown) key. */
  get parkedCount(): number {
    return this.parked.length;
  }

  /** Registers a listener for applied revocations; returns the unsubscribe. */
  onRevoked(listener: (event: RevocationEventClaims) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A live event from the core subscription: verified and applied now; failures are counted by the stream copy. */
  core(subject: string, data: Uint8Array): void {
    const kind = SUBJECT_KIND.get(subject);
    if (kind === undefined || this.closed || data.byteLength > MAX_EVENT_BYTES) return;
    const jws = Buffer.from(data).toString('latin1');
    if (this.recent.has(jws)) return;
    const verified = (async () => {
      await this.o.keys.ready();
      const claims = await verifyRevocationEvent(jws, this.o.keys, this.o.issuer);
      if (claims.kind !== kind || this.closed) return false;
      this.apply(claims);
      return true;
    })().catch(() => false);
    this.recent.set(jws, verified);
    if (this.recent.size > RECENT_MAX) this.recent.delete(this.recent.keys().next().value!);
  }

  /** A stream event: verified (sequentially, in stream order) and applied, or dropped and counted. */
  eager(jws: string, seq: number, kind: RevocationKind, parkedAt?: number): void {
    if (jws.length > MAX_EVENT_BYTES) {
      this.dropped++;
      this.o.onProcessed(seq);
      return;
    }
    this.queuedCount++;
    this.chain = this.chain.then(async () => {
      try {
        // Seen on the core subscription first: if that verified and applied it, nothing is left to do.
        const early = this.recent.get(jws);
        if (early !== undefined) {
          this.recent.delete(jws);
          if (await early) return;
        }
        // Verifying before the first JWKS loaded would drop every event as "unknown key".
        await this.o.keys.ready();
        const claims = await verifyRevocationEvent(jws, this.o.keys, this.o.issuer);
        if (claims.kind !== kind)
          throw new RevocationEventError('ERR_EVENT_CLAIMS', 'subject and kind differ');
        this.apply(claims);
      } catch (err) {
        if (isCode(err, 'ERR_EVENT_KID') && this.park(jws, seq, kind, parkedAt ?? Date.now())) return;
        this.dropped++;
      } finally {
        this.queuedCount--;
        this.o.onProcessed(seq);
      }
    });
  }

  /**
   * Fetches a replayed entry's event by sequence and verifies it: applied if good, the pending entry
   * dropped if not. NATS unreachable: the entry stays pending (fail closed), tried again on the next match.
   */
  pending(kind: 'jti' | 'sid', value: string, seq: number): Promise<void> {
    const inFlight = this.verifying.get(seq);
    if (inFlight) return inFlight;
    const p = (async () => {
      try {
        await this.o.keys.ready();
        const stored = await this.o.fetch(seq);
        const jws = Buffer.from(stored.data).toString('latin1');
        const claims = await verifyRevocationEvent(jws, this.o.keys, this.o.issuer);
        if (
          claims.kind !== kind ||
          claims.value !== value ||
          stored.subject !== REVOCATION_SUBJECT_PREFIX + kind
        ) {
          throw new RevocationEventError('ERR_EVENT_CLAIMS', 'stored event differs from the replayed one');
        }
        this.apply(claims);
      } catch (err) {
        if (!(err instanceof RevocationEventError) && !isMessageGone(err)) return;
        this.o.set.dropPending(kind, value, seq);
        this.dropped++;
      } finally {
        this.verifying.delete(seq);
      }
    })();
    this.verifying.set(seq, p);
    return p;
  }

  /** Re-verifies parked events once the key set changed; drops those parked too long. */
  retryParked(): void {
    if (this.parked.length === 0) return;
    if (this.o.keys.epoch === this.parkedKeysEpoch) {
      const now = Date.now();
      const before = this.parked.length;
      this.parked = this.parked.filter((p) => now - p.parkedAt <= PARK_MAX_AGE_MS);
      this.dropped += before - this.parked.length;
      return;
    }
    const retry = this.parked;
    this.parked = [];
    for (const p of retry) this.eager(p.jws, p.seq, p.kind, p.parkedAt);
  }

  /** Stops accepting work (in-flight verifications finish but apply nothing new from the core path). */
  close(): void {
    this.closed = true;
    this.parked = [];
    this.recent.clear();
  }

  /**
   * Keeps an event signed by a key we do not know (yet) for a while: the key store may be within its
   * refresh cooldown while a new key already signs. Retried whenever the key set changes; bounded in
   * count and age, then dropped (a forged kid only ever costs a slot here, never a verdict).
   */
  private park(jws: string, seq: number, kind: RevocationKind, parkedAt: number): boolean {
    if (this.closed || Date.now() - parkedAt > PARK_MAX_AGE_MS) return false;
    if (this.parked.length >= PARK_MAX) {
      this.parked.shift();
      this.dropped++;
    }
    this.parked.push({ jws, seq, kind, parkedAt });
    this.parkedKeysEpoch = this.o.keys.epoch;
    return true;
  }

  private apply(claims: RevocationEventClaims): void {
    if (!this.o.set.apply(claims)) return;
    // A kid revocation: forget the key at once so nothing it signed verifies, even from caches.
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

function isCode(err: unknown, code: string): boolean {
  return (err as { code?: unknown } | undefined)?.code === code;
}

/** The stored message is gone (aged out, or the stream was recreated): its entry can never verify. */
function isMessageGone(err: unknown): boolean {
  return err instanceof Error && /no message found|not found/i.test(err.message);
}
