import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';

/** Where a KeyStore gets the issuer's public JWKS from (gRPC GetJwks, HTTP jwks_uri, or in-process). */
export type JwksSource = () => Promise<JSONWebKeySet>;

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
  /** Bumps whenever the set of keys changes, so caches can tell they are out of date. */
  readonly epoch: number;
  /** Resolves once a first JWKS was loaded. */
  ready(): Promise<void>;
  close(): void;
}
