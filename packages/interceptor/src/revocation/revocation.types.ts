/** The kinds of revocation, as in the NATS subjects `authmesh.revoked.<kind>`. */
export type RevocationKind = 'jti' | 'sid' | 'sub' | 'kid' | 'all';

/** The claims of a signed revocation event (the payload of the JWS published on NATS). */
export interface RevocationEventClaims {
  v: 1;
  kind: RevocationKind;
  /** The jti, sid, sub or kid revoked; for `all`, the empty string. */
  value: string;
  /** Unix seconds of the revocation; `sub` and `all` reject tokens with `iat <= at`. */
  at: number;
  /** Unix seconds after which the entry is moot (nothing it matches can still be valid). */
  exp: number;
  reason: string;
}

/**
 * The claims of a batch event (`v: 2`): many values of one kind under one signature, with one instant,
 * lifetime and reason. Interceptors apply it as one {@link RevocationEventClaims} per value. Kinds
 * `kid` and `all` are never batched.
 */
export interface RevocationBatchClaims {
  v: 2;
  kind: 'jti' | 'sid' | 'sub';
  /** 1 to 1000 values, each as `value` of a single event. */
  values: string[];
  at: number;
  exp: number;
  reason: string;
}

/** What a revocation check needs of a token (taken from verified claims). */
export interface RevocationSubject {
  readonly jti: string;
  readonly sid: string | undefined;
  readonly sub: string;
  readonly iat: number;
  readonly kid: string;
}

/** The revocation state the verifier consults on every call (pure in-memory lookups). */
export interface RevocationCheck {
  isRevoked(token: RevocationSubject): boolean;
  /**
   * Optional, for the async verification path: the definitive verdict when `isRevoked` said true.
   * A feed stores replayed events unverified and `isRevoked` fails closed on them; `confirm` waits for
   * the entry's signature check, so a forged event never rejects a token. Call it only when
   * `isRevoked` returned true: `if (rc.isRevoked(t) && (await rc.confirm?.(t) ?? true)) reject`.
   */
  confirm?(token: RevocationSubject): Promise<boolean>;
  /** Bumps on every applied revocation, so cached verdicts can be re-checked only when it moved. */
  readonly epoch: number;
}

/** A live revocation feed (NATS JetStream), as the server interceptor uses it. */
export interface RevocationFeed extends RevocationCheck {
  /** Resolves once the stream was replayed from the start. */
  ready(): Promise<void>;
  isReady(): boolean;
  /** True when the feed was last known current longer ago than the configured bound. */
  isStale(): boolean;
  /** 'reject' (default): stale → UNAVAILABLE; 'allow': stale → calls pass, health reports degraded. */
  readonly stalePolicy: 'reject' | 'allow';
  /**
   * Seconds entries are kept past their `exp`. A verifier's clock tolerance above it would accept a
   * token after its revocation was forgotten, so `createServerAuth` caps its tolerance to this.
   */
  readonly graceSec?: number;
  /** Called for each applied revocation (to evict caches and end open streams). Returns an unsubscribe. */
  onRevoked(listener: (event: RevocationEventClaims) => void): () => void;
  close(): Promise<void>;
}
