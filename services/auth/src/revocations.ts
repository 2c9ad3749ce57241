import {
  MAX_BATCH_VALUES,
  type RevocationBatchClaims,
  type RevocationEventClaims,
  type RevocationKind,
} from '@authmesh/interceptor';
import { randomUUID } from 'node:crypto';
import type { JetStreamManager, NatsConnection } from 'nats';
import type { KeyManager } from './keys/key-manager.types.js';
import { ensureRevocationStream, KEYS_ROTATED_SUBJECT, REVOCATION_STREAM } from './nats.js';
import { signEvent } from './revocation-signer.js';
import { AckedPublisher } from './acked-publisher.js';
import { RequestPipeline } from './request-pipeline.js';
import type { OwnEvents } from './own-events.js';

/** Options of {@link RevocationPublisher.open}. */
export interface RevocationPublisherOptions {
  jsm: JetStreamManager;
  /** Signs every event with `keys.current()` (the same keys as tokens, so interceptors trust one JWKS). */
  keys: Pick<KeyManager, 'current'>;
  /** `iss` of the events (`AUTHMESH_ISSUER`). */
  issuer: string;
  /** Longest access-token lifetime, seconds: the stream keeps events at least this long plus skew. */
  maxTokenLifetimeSec: number;
  /** JetStream replicas of the stream (`AUTHMESH_NATS_REPLICAS`). */
  replicas: number;
  /** Core connection: events are published on it with many acks in flight (./acked-publisher.ts). */
  nc: NatsConnection;
  /** The process's request pipeline on `nc` (the auth service's); one of its own when absent. */
  requests?: RequestPipeline;
  /** Total time to wait for the JetStream ack, retries included, ms (default 5000). */
  ackTimeoutMs?: number;
  /** Notes every event signed here, so this process's own guard applies it unchecked (./own-events.ts). */
  ownEvents?: Pick<OwnEvents, 'add'>;
}

/** What a published revocation returns: its instant and its stream sequence. */
export interface PublishedRevocation {
  /** Unix seconds of the revocation (`sub`/`all` reject tokens with `iat <= at`). */
  at: number;
  /** Sequence of the event in `AUTHMESH_REVOCATIONS`. */
  sequence: number;
}

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['jti', 'sid', 'sub', 'kid', 'all']);
const MAX_REASON = 200;
const ATTEMPT_TIMEOUT_MS = 500;
const RETRY_DELAY_MS = 50;

function isNoResponders(err: unknown): boolean {
  return (err as { code?: unknown }).code === '503';
}

/**
 * The one path every revocation takes on the auth side: sign with the current key, publish to
 * JetStream on `authmesh.revoked.<kind>`, await the ack. When `revoke` returns, the event is durable
 * and every interceptor will apply it (live, or on replay after a restart or reconnect).
 */
export class RevocationPublisher {
  private readonly acked: AckedPublisher;

  private constructor(
    private readonly keys: Pick<KeyManager, 'current'>,
    private readonly issuer: string,
    private readonly nc: NatsConnection,
    /** Its own pipeline, closed with it (undefined when it uses the caller's). */
    private readonly ownPipeline: RequestPipeline | undefined,
    requests: RequestPipeline,
    private readonly ackTimeoutMs: number,
    private readonly ownEvents: Pick<OwnEvents, 'add'> | undefined,
  ) {
    this.acked = new AckedPublisher(requests, REVOCATION_STREAM);
  }

  /** Ensures the stream exists with the right limits (add or update), then returns a publisher. */
  static async open(options: RevocationPublisherOptions): Promise<RevocationPublisher> {
    const o = options;
    if (!o || typeof o.nc?.publish !== 'function') throw new TypeError('nc must be a NatsConnection');
    if (typeof o.jsm?.streams?.info !== 'function') throw new TypeError('jsm must be a JetStreamManager');
    if (typeof o.keys?.current !== 'function') throw new TypeError('keys must be a KeyManager');
    if (typeof o.issuer !== 'string' || o.issuer === '')
      throw new TypeError('issuer must be a non-empty string');
    if (!Number.isInteger(o.maxTokenLifetimeSec) || o.maxTokenLifetimeSec <= 0) {
      throw new TypeError('maxTokenLifetimeSec must be a positive integer (seconds)');
    }
    if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 5)
      throw new TypeError('replicas must be an integer from 1 to 5');
    const ackTimeoutMs = o.ackTimeoutMs ?? 5000;
    if (!Number.isFinite(ackTimeoutMs) || ackTimeoutMs <= 0)
      throw new TypeError('ackTimeoutMs must be a positive number');
    // max_age ≥ longest token lifetime + clock skew (DESIGN.md): replaying the stream from its start
    // then yields exactly the revocations that can still matter.
    await ensureRevocationStream(o.jsm, { replicas: o.replicas, maxTokenLifetimeSec: o.maxTokenLifetimeSec });
    if (o.ownEvents !== undefined && typeof o.ownEvents.add !== 'function')
      throw new TypeError('ownEvents must be an OwnEvents');
    const own = o.requests === undefined ? new RequestPipeline(o.nc) : undefined;
    const requests = o.requests ?? own!;
    return new RevocationPublisher(o.keys, o.issuer, o.nc, own, requests, ackTimeoutMs, o.ownEvents);
  }

  /**
   * Signs and publishes one revocation and resolves once JetStream acknowledged it (stored, and
   * replicated when replicas > 1). Rejects when NATS does not ack in time: callers map that to UNAVAILABLE.
   */
  async revoke(
    kind: RevocationKind,
    value: string,
    options: { exp: number; reason: string },
  ): Promise<PublishedRevocation> {
    if (!KINDS.has(kind)) throw new TypeError('kind must be one of jti, sid, sub, kid, all');
    if (typeof value !== 'string' || value.length > 512 || (kind === 'all') !== (value === '')) {
      throw new TypeError(
        kind === 'all'
          ? "value must be '' for kind all"
          : 'value must be a non-empty string of at most 512 characters',
      );
    }
    if (!Number.isFinite(options?.exp) || options.exp <= 0) throw new TypeError('exp must be unix seconds');
    const reason = String(options.reason ?? '').slice(0, MAX_REASON);
    const claims: RevocationEventClaims = {
      v: 1,
      kind,
      value,
      at: Math.floor(Date.now() / 1000),
      exp: Math.floor(options.exp),
      reason,
    };
    return this.publish(claims);
  }

  /**
   * One signed batch event (`v: 2`) revoking every value (1 to MAX_BATCH_VALUES, kind jti, sid or sub),
   * resolved once JetStream acknowledged it: every value is then durable. Interceptors older than
   * batch events drop them, so callers use this only when asked to (`authmesh revoke --batch`). The
   * caller keeps the event under the interceptors' size bound (`batchChunks`).
   */
  async revokeBatch(
    kind: RevocationBatchClaims['kind'],
    values: readonly string[],
    options: { exp: number; reason: string },
  ): Promise<PublishedRevocation> {
    if (kind !== 'jti' && kind !== 'sid' && kind !== 'sub')
      throw new TypeError('kind must be one of jti, sid, sub');
    if (!Array.isArray(values) || values.length === 0 || values.length > MAX_BATCH_VALUES)
      throw new TypeError(`values must hold 1 to ${MAX_BATCH_VALUES} values`);
    if (values.some((v) => typeof v !== 'string' || v === '' || v.length > 512))
      throw new TypeError('every value must be a non-empty string of at most 512 characters');
    if (!Number.isFinite(options?.exp) || options.exp <= 0) throw new TypeError('exp must be unix seconds');
    return this.publish({
      v: 2,
      kind,
      values: [...values],
      at: Math.floor(Date.now() / 1000),
      exp: Math.floor(options.exp),
      reason: String(options.reason ?? '').slice(0, MAX_REASON),
    });
  }

  private async publish(claims: RevocationEventClaims | RevocationBatchClaims): Promise<PublishedRevocation> {
    const kind = claims.kind;
    const signed = await signEvent(claims, this.keys.current(), this.issuer);
    // Before publishing: the guard may see the core copy before the ack comes back.
    this.ownEvents?.add(signed);
    const jws = Buffer.from(signed, 'latin1');
    // One msgID for every attempt: the stream's duplicate window stores the event once however often we retry.
    const msgID = randomUUID();
    const deadline = Date.now() + this.ackTimeoutMs;
    const subject = `authmesh.revoked.${kind}`;
    for (;;) {
      try {
        // Resent every ATTEMPT_TIMEOUT_MS on one reply subject until acked or the budget is spent: right
        // after a NATS reconnect a publish buffered while disconnected can go unanswered.
        const sequence = await this.acked.publish(
          subject,
          jws,
          msgID,
          Math.max(1, deadline - Date.now()),
          ATTEMPT_TIMEOUT_MS,
        );
        return { at: claims.at, sequence };
      } catch (err) {
        // "No responders": the stream is not there yet (JetStream still starting after a restart, a
        // leader election); tried again within the ack budget. A timeout has spent the budget already.
        if (!isNoResponders(err) || Date.now() + RETRY_DELAY_MS >= deadline) throw err;
        await new Promise((r) => setTimeout(r, RETRY_DELAY_MS));
      }
    }
  }

  /** Ends the ack subscription; revocations still awaiting their ack reject (the call answers UNAVAILABLE). */
  close(): void {
    // A shared pipeline (the auth service's) is closed by its owner, with the connection.
    this.ownPipeline?.close();
  }

  /** Announces a key rotation on core `authmesh.keys.rotated` so interceptors refresh their JWKS at once. */
  async announceRotation(kid: string): Promise<void> {
    this.nc.publish(KEYS_ROTATED_SUBJECT, JSON.stringify({ kid }));
    await this.nc.flush();
  }
}
