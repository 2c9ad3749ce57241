export type { ActorClaim, AccessTokenClaims, Principal } from './claims.js';
export { AuthError, isAuthError, type AuthErrorCode } from './errors.js';
export type { KeyStore, JwksSource, VerificationKey } from './jwks/key-store.types.js';
export type {
  RevocationKind,
  RevocationEventClaims,
  RevocationBatchClaims,
  RevocationSubject,
  RevocationCheck,
  RevocationFeed,
} from './revocation/revocation.types.js';
export type { ServerAuth } from './server/server-auth.types.js';
export * from './client/index.js';
export { toGrpcStatus, type GrpcStatus, type StatusLogger } from './status.js';
export { createKeyStore, type KeyStoreOptions } from './jwks/key-store.js';
export { EVENT_KEYS_MEMBER, type JwksDocument } from './jwks/key-store.types.js';
export {
  jwksFromAuthService,
  jwksFromUri,
  type JwksFetchOptions,
  type ClosableJwksSource,
} from './jwks/sources.js';
export { createServerAuth } from './server/server-auth.js';
export type { ServerAuthOptions, JwksOption, RevocationsOption, RejectionInfo } from './server/options.js';
export type { MethodRule } from './server/rules.js';
export { getPrincipal, findPrincipal, type AnyServerCall } from './server/principal.js';
export {
  createRevocationFeed,
  type NatsRevocationFeed,
  type RevocationFeedStats,
} from './revocation/feed.js';
export type { RevocationFeedOptions } from './revocation/feed-options.js';
export { natsServersWithCredentials, type NatsServersWithCredentials } from './revocation/nats-url.js';
export { REVOCATION_STREAM, REVOCATION_SUBJECT_PREFIX, KEYS_ROTATED_SUBJECT } from './revocation/feed.js';
export {
  signRevocationEvent,
  verifyRevocationEvent,
  verifyRevocationEvents,
  MAX_BATCH_VALUES,
  MAX_REVOCATION_EVENT_BYTES,
  RevocationEventError,
  REVOCATION_EVENT_TYP,
  type RevocationEventErrorCode,
  type RevocationSigningKey,
} from './revocation/event.js';
export { RevocationSet, type RevocationSetOptions } from './revocation/revocation-set.js';
/** For ES256 signers: verifiers accept only the low-S form of a signature (s ≤ n/2). */
export { toLowS } from './verify/low-s.js';
export {
  addHealthService,
  healthPackageDefinition,
  HEALTH_RULES,
  type HealthService,
  type HealthServiceOptions,
} from './health.js';
export {
  addReflectionService,
  reflectionPackageDefinition,
  REFLECTION_RULES,
  HEALTH_PROTOS,
  AUTHMESH_PROTOS,
  type ProtoFiles,
} from './reflection.js';
export {
  tlsFromEnv,
  serverCredentials,
  channelCredentials,
  certThumbprint,
  type TlsSettings,
} from './tls.js';
export { authmeshMetrics, type AuthmeshMetrics, type AuthmeshMetricsOptions } from './metrics.js';
export {
  parseAnnouncement,
  PACKAGE_VERSION,
  MESH_SUBJECT_PREFIX,
  MESH_ANNOUNCE_SUBJECT,
  MESH_GOODBYE_SUBJECT,
  MAX_ANNOUNCE_PERIOD_MS,
  MAX_ANNOUNCEMENT_FIELD,
  type MeshAnnouncement,
  macAnnouncement,
  verifyAnnouncementMac,
  type AnnouncementKind,
  meshKeyFromAuthService,
  type MeshKey,
  type MeshKeySource,
  type MeshKeyFromAuthServiceOptions,
} from './mesh/index.js';
