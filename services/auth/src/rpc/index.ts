import type { AuthServiceHandlers } from '@authmesh/interceptor/proto';
import { lifetimesOf, longest, type Lifetimes } from '../lifetimes.js';
import type { AuthServiceContext } from '../context.types.js';
import { PasswordHasher } from '../passwords.js';
import { RevocationPublisher } from '../revocations.js';
import { ClientStore } from '../stores/clients.js';
import { SessionStore, SUCCESSOR_KEY_PURPOSE } from '../stores/sessions.js';
import { UserStore } from '../stores/users.js';
import { PeerResolver } from '../peer.js';
import { LoginThrottle } from '../throttle.js';
import type { GrantSettings, Revoker, RpcDeps } from './deps.js';
import type { RevokedThrough } from '../tokens/revoked-through.js';
import { exchangeToken } from './exchange-token.js';
import { getJwks } from './get-jwks.js';
import { getMeshStatus } from './get-mesh-status.js';
import { LiveSet } from '../mesh/live-set.js';
import { MESH_KEY_PURPOSE, MeshKeys } from '../mesh/announcement-keys.js';
import { getMeshKey } from './get-mesh-key.js';
import { serveRoster } from '../mesh/roster.js';
import { issueToken } from './issue-token.js';
import { refresh } from './refresh.js';
import { revoke } from './revoke.js';
import { unary } from './unary.js';

export { ADMIN_SCOPE, hasAdminAuthority } from './authority.js';
export { EXCHANGE_SCOPE } from './exchange-token.js';
export {
  applyRevocation,
  applyRevocationBatch,
  batchChunks,
  MAX_REVOCATION_VALUE,
  type RevocationTarget,
  type RevocationDeps,
} from './apply-revocation.js';

/** The `client_id` claim of password-grant tokens: no OAuth client authenticates in that grant. */
export const PASSWORD_CLIENT_ID = 'authmesh-password';

/**
 * The grant settings of a service config; `stored` gives the stored lifetimes (the longest of every
 * replica's) as last read, which revocation events must cover (the config's own when absent).
 */
export function grantSettings(
  config: AuthServiceContext['config'],
  stored?: () => Lifetimes | undefined,
): GrantSettings {
  const own = lifetimesOf(config);
  return {
    defaultAudience: config.defaultAudience,
    accessTtlSec: config.accessTtlSec,
    clockSkewSec: config.clockSkewSec,
    passwordClientId: PASSWORD_CLIENT_ID,
    revocationTtlSec: () => {
      const l = longest(own, stored?.());
      return l.accessTtlSec + l.clockSkewSec;
    },
  };
}

/**
 * Builds the `authmesh.v1.AuthService` handlers: opens the user/client caches (KV watches), the
 * session store and the revocation publisher. `close()` stops the watches.
 */
export async function createAuthHandlers(
  ctx: AuthServiceContext,
): Promise<{ handlers: AuthServiceHandlers; mesh: LiveSet; close(): Promise<void> }> {
  const { config } = ctx;
  const meshKeys = ctx.meshKeys ?? new MeshKeys(ctx.kek.deriveKey(MESH_KEY_PURPOSE));
  const mesh = new LiveSet({ verifier: meshKeys });
  mesh.subscribe(ctx.nc);
  const roster = serveRoster(ctx.nc, mesh);
  // The KV requests of Refresh, login and client_credentials: many in flight, written together.
  const pipeline = { jsm: ctx.jsm, requests: ctx.requests };
  const [users, clients, sessions, throttle, revocations] = await Promise.all([
    UserStore.open(ctx.js, ctx.records),
    ClientStore.open(ctx.js, ctx.records),
    SessionStore.open(ctx.js, {
      idleTtlSec: config.refreshIdleTtlSec,
      absoluteTtlSec: config.refreshAbsoluteTtlSec,
      successorKey: ctx.kek.deriveKey(SUCCESSOR_KEY_PURPOSE),
      retryGraceSec: config.refreshRetryGraceSec,
      integrity: ctx.records,
      pipeline,
    }),
    LoginThrottle.open(
      ctx.js,
      ctx.records,
      { maxFailures: config.loginMaxFailures, baseDelayMs: config.loginBaseDelayMs },
      pipeline,
    ),
    // Same stream limits as server.ts passes (ensureRevocationStream updates the stream when they differ).
    RevocationPublisher.open({
      nc: ctx.nc,
      requests: ctx.requests,
      jsm: ctx.jsm,
      keys: ctx.keys,
      issuer: config.issuer,
      maxTokenLifetimeSec: config.accessTtlSec + config.clockSkewSec,
      replicas: config.natsReplicas,
      ...(ctx.ownEvents ? { ownEvents: ctx.ownEvents } : {}),
    }),
  ]);
  const deps: RpcDeps = {
    ctx,
    users,
    clients,
    sessions,
    passwords: new PasswordHasher({
      cost: config.scryptN,
      onVerify: () => ctx.metrics?.passwordChecked(),
    }),
    throttle,
    peers: new PeerResolver(config.trustedProxies),
    revocations: noting(revocations, ctx.revokedThrough),
    settings: grantSettings(config, ctx.lifetimes),
    mesh,
    meshKeys,
  };
  const handlers: AuthServiceHandlers = {
    IssueToken: unary('IssueToken', ctx.log, issueToken(deps)),
    Refresh: unary('Refresh', ctx.log, refresh(deps)),
    Revoke: unary('Revoke', ctx.log, revoke(deps)),
    ExchangeToken: unary('ExchangeToken', ctx.log, exchangeToken(deps)),
    GetJwks: unary('GetJwks', ctx.log, getJwks(deps)),
    GetMeshStatus: unary('GetMeshStatus', ctx.log, getMeshStatus(deps)),
    GetMeshKey: unary('GetMeshKey', ctx.log, getMeshKey(deps)),
  };
  return {
    handlers,
    mesh,
    async close() {
      roster.unsubscribe();
      mesh.close();
      revocations.close();
      await Promise.all([users.close(), clients.close()]);
    },
  };
}

/**
 * The publisher, noting each of this replica's own `sub`/`all` revocations for the minter as soon as it is
 * durable: a login on this replica right after Revoke returned must not wait for the feed to deliver it.
 */
function noting(revocations: Revoker, through: RevokedThrough | undefined): Revoker {
  if (!through) return revocations;
  return {
    async revoke(kind, value, options) {
      const r = await revocations.revoke(kind, value, options);
      through.note(kind, value, r.at);
      return r;
    },
  };
}
