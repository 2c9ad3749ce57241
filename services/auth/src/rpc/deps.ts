import type { RevocationKind } from '@authmesh/interceptor';
import type { AuthServiceContext } from '../context.types.js';
import type { PasswordHasher } from '../passwords.js';
import type { ClientStore } from '../stores/clients.js';
import type { SessionStore } from '../stores/sessions.js';
import type { UserStore } from '../stores/users.js';
import type { PeerResolver } from '../peer.js';
import type { LoginThrottle } from '../throttle.js';
import type { MeshView } from '../mesh/mesh-view.js';
import type { MeshKeys } from '../mesh/announcement-keys.js';

/** What the RPC handlers need of ../revocations.ts (its `RevocationPublisher`). */
export interface Revoker {
  /** Signs, publishes and awaits the JetStream ack of one revocation event. */
  revoke(
    kind: RevocationKind,
    value: string,
    options: { exp: number; reason: string },
  ): Promise<{ at: number; sequence: number }>;
  /** One batch event for many values of kind jti, sid or sub (../revocations.ts); absent: no batches. */
  revokeBatch?(
    kind: 'jti' | 'sid' | 'sub',
    values: readonly string[],
    options: { exp: number; reason: string },
  ): Promise<{ at: number; sequence: number }>;
}

/** Settings of the grants, taken once from the service config. */
export interface GrantSettings {
  /** `AUTHMESH_DEFAULT_AUDIENCE`: the audience of tokens whose request names none; every subject may have it. */
  defaultAudience: string;
  /** `AUTHMESH_ACCESS_TTL`, seconds. */
  accessTtlSec: number;
  /** Clock skew verifiers tolerate, seconds: revocation events outlive the tokens by this much. */
  clockSkewSec: number;
  /**
   * Seconds a revocation event stays in force (its `exp` − now) unless the target says otherwise: the
   * longest access-token lifetime ANY replica may mint with plus the clock skew, from the stored
   * lifetimes (../lifetimes.ts: raised by every replica at start, never lowered), not this replica's
   * own settings, which may be shorter. Read at each revocation (the stored value may have risen).
   */
  revocationTtlSec(): number;
  /** The `client_id` claim of password-grant tokens (no client authenticates in that grant). */
  passwordClientId: string;
}

/** Everything one RPC handler uses, built once by ./index.ts. */
export interface RpcDeps {
  readonly ctx: AuthServiceContext;
  readonly users: UserStore;
  readonly clients: ClientStore;
  readonly sessions: SessionStore;
  readonly passwords: PasswordHasher;
  readonly throttle: LoginThrottle;
  /** The caller's address as the throttle counts it (trusted proxies, IPv6 /64). */
  readonly peers: PeerResolver;
  readonly revocations: Revoker;
  readonly settings: GrantSettings;
  /** The live protected-service instances (announcements on authmesh.mesh.>). */
  readonly mesh: MeshView;
  /** The instances' announcement keys (GetMeshKey), derived from the KEK. */
  readonly meshKeys: MeshKeys;
}

/** Unix seconds now. */
export const nowSec = (): number => Math.floor(Date.now() / 1000);
