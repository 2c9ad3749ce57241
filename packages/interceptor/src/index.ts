export type { ActorClaim, AccessTokenClaims, Principal } from './claims.js';
export { AuthError, isAuthError, type AuthErrorCode } from './errors.js';
export type { KeyStore, JwksSource, VerificationKey } from './jwks/key-store.types.js';
export type {
  RevocationKind,
  RevocationEventClaims,
  RevocationSubject,
  RevocationCheck,
  RevocationFeed,
} from './revocation/revocation.types.js';
export type { ServerAuth } from './server/server-auth.types.js';
