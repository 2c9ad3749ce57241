import type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { ServerAuth } from '@authmesh/interceptor';
import type { Kek } from './keys/kek.js';
import type { MeshKeys } from './mesh/announcement-keys.js';
import type { OwnEvents } from './own-events.js';
import type { RequestPipeline } from './request-pipeline.js';
import type { KeyManager } from './keys/key-manager.types.js';
import type { TokenMinter } from './tokens/minter.types.js';
import type { RevokedThrough } from './tokens/revoked-through.js';
import type { Audit } from './audit.js';
import type { AuthConfig } from './config.js';
import type { Lifetimes } from './lifetimes.js';
import type { AuthMetrics } from './metrics.js';
import type { RecordIntegrity } from './stores/record-mac.js';

/** What every part of the running auth service shares, built once by ./server.ts. */
export interface AuthServiceContext {
  readonly config: AuthConfig;
  readonly nc: NatsConnection;
  /** Requests and publishes on `nc` written together per event-loop turn (../request-pipeline.ts). */
  readonly requests: RequestPipeline;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly keys: KeyManager;
  /** The key-encryption key; stores derive their own keys from it (`deriveKey`). */
  readonly kek: Kek;
  /**
   * Mesh announcement keys (derived from the KEK once): GetMeshKey hands them out, the live set verifies
   * with them, the guard's own feed announces with one. Bare test contexts leave it out (derived then).
   */
  readonly meshKeys?: MeshKeys;
  /** Seals and checks the records read back from NATS (users, clients, sessions): ./stores/record-mac.ts. */
  readonly records: RecordIntegrity;
  readonly minter: TokenMinter;
  /** `sub`/`all` revocation instants the minter keeps new tokens' `iat` past; absent in bare test contexts. */
  readonly revokedThrough?: RevokedThrough;
  /** Verifies callers of Revoke/ExchangeToken and subject tokens: in-process keys + the revocation feed. */
  readonly guard: ServerAuth;
  /** Revocation events this process signed, which its guard applies unchecked (../own-events.ts). */
  readonly ownEvents?: OwnEvents;
  readonly log: Logger;
  /**
   * The stored lifetimes (../lifetimes.ts: the longest of every replica's), as last read; revocation
   * events cover them. Absent in tests that build a bare context (the config's own then apply).
   */
  readonly lifetimes?: () => Lifetimes | undefined;
  /** Prometheus metrics of the service; absent in tests that build a bare context. */
  readonly metrics?: Pick<AuthMetrics, 'passwordChecked'>;
  /** Audit trail (NATS `authmesh.audit.<event>` + log); absent in tests that build a bare context. */
  readonly audit?: Audit;
}
