import type { RevocationKind } from './revocation.types.js';

/** The JetStream stream holding revocation events. */
export const REVOCATION_STREAM = 'AUTHMESH_REVOCATIONS';
/** Events are published on `authmesh.revoked.<kind>`. */
export const REVOCATION_SUBJECT_PREFIX = 'authmesh.revoked.';
/** Core NATS subject announcing a key rotation (interceptors refresh their JWKS at once). */
export const KEYS_ROTATED_SUBJECT = 'authmesh.keys.rotated';

/** The kind a revocation subject carries, or undefined for any other subject. */
export const SUBJECT_KIND: ReadonlyMap<string, RevocationKind> = new Map(
  (['jti', 'sid', 'sub', 'kid', 'all'] as const).map((k) => [REVOCATION_SUBJECT_PREFIX + k, k]),
);
