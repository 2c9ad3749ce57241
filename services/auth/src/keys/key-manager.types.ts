import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet, JWK } from 'jose';

export type SigningAlg = 'EdDSA' | 'ES256';

/** The private key that signs now. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly privateKey: KeyObject;
}

/**
 * The auth service's signing keys, shared by all replicas through a JetStream KV bucket (private
 * keys encrypted under the KEK). Implemented in ./key-manager.ts.
 */
export interface KeyManager {
  /** The key that signs now. */
  current(): SigningKey;
  /** The public JWKS: active, next (published before it signs), and retired keys still verifying tokens. */
  jwks(): JSONWebKeySet;
  /** `jwks()` serialized once per change (served as-is by GetJwks and HTTP). */
  jwksJson(): string;
  /**
   * Keys withdrawn from the JWKS (kid revocations) that still verify revocation EVENTS, never tokens:
   * removing a key must not make the revocations it signed unverifiable. Never in the HTTP JWKS.
   */
  eventKeys(): readonly JWK[];
  /** `{"keys": eventKeys()}` serialized once per change (GetJwks `event_keys_json`). */
  eventKeysJson(): string;
  /** Promotes the pre-published next key, retires the current one, publishes a new next key. */
  rotate(): Promise<void>;
  /** Withdraws a key at once (a `kid` revocation): rotates first if it is the current key. */
  withdraw(kid: string): Promise<void>;
  /** Called after any change of the key ring (also changes made by other replicas). */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}
