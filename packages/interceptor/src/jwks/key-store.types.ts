import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

/**
 * The member of a {@link JwksDocument} listing keys withdrawn from the JWKS that still verify
 * revocation events (never tokens). Only the auth service's GetJwks (`event_keys_json`) fills it; the
 * HTTP JWKS that off-the-shelf validators read never carries it.
 */
export const EVENT_KEYS_MEMBER = 'authmesh_event_keys';

/** A JWKS, optionally with the keys that verify revocation events only. */
export type JwksDocument = JSONWebKeySet & { [EVENT_KEYS_MEMBER]?: JWK[] };

/** Where a KeyStore gets the issuer's public JWKS from (gRPC GetJwks, HTTP jwks_uri, or in-process). */
export type JwksSource = () => Promise<JwksDocument>;

/** A verification key imported once from the JWKS. */
export interface VerificationKey {
  readonly kid: string;
  readonly alg: string;
  readonly key: KeyObject;
}

/**
 * The issuer's verification keys, by `kid`. Implemented in ./key-store.ts; shared by the token
 * verifier and the revocation feed (events are signed with the same keys).
 */
export interface KeyStore {
  /** The key for `kid` if known now (hot path: a Map lookup, no I/O). */
  get(kid: string): VerificationKey | undefined;
  /** Like `get`, but on a miss refreshes the JWKS once (rate-limited by a cooldown) and looks again. */
  resolve(kid: string): Promise<VerificationKey | undefined>;
  /** Fetches the JWKS now (e.g. on an `authmesh.keys.rotated` event); keeps the last good set on failure. */
  refresh(): Promise<void>;
  /** Forgets a key at once (a `kid` revocation) so nothing it signed verifies, even from caches. */
  remove(kid: string): void;
  /**
   * A key that may verify revocation EVENTS only: the token keys plus keys withdrawn from the JWKS
   * (a `kid` revocation must not make the revocations that key signed unverifiable; a forged event
   * can only reject, never admit). Never used for tokens. Optional for custom stores.
   */
  eventKey?(kid: string): VerificationKey | undefined;
  /** Like `eventKey`, fetching on a miss as `resolve` does. */
  resolveEventKey?(kid: string): Promise<VerificationKey | undefined>;
  /**
   * `performance.now()` when the last successful JWKS fetch started (a key missing from it was not
   * published then); undefined before the first. Optional for custom stores.
   */
  readonly loadedAt?: number;
  /** Bumps whenever the set of keys changes, so caches can tell they are out of date. */
  readonly epoch: number;
  /** Resolves once a first JWKS was loaded. */
  ready(): Promise<void>;
  close(): void;
}
