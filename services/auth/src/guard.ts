import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  createKeyStore,
  EVENT_KEYS_MEMBER,
  createRevocationFeed,
  createServerAuth,
  HEALTH_RULES,
  healthPackageDefinition,
  REFLECTION_RULES,
  reflectionPackageDefinition,
  type MeshKeySource,
  type RevocationEventClaims,
  type ServerAuth,
} from '@authmesh/interceptor';
import { authPackageDefinition } from '@authmesh/interceptor/proto';
import type { KeyManager } from './keys/key-manager.types.js';
import type { OwnEvents } from './own-events.js';

/** What the guard needs. */
export interface GuardOptions {
  /** The revocation feed's connection (the auth service gives it one of its own); not closed by the guard. */
  nc: NatsConnection;
  keys: KeyManager;
  issuer: string;
  /**
   * The auth service's own audience (`AUTHMESH_DEFAULT_AUDIENCE`): the only one a caller token presented
   * to it may carry.
   */
  audience: string;
  clockSkewSec: number;
  log: Logger;
  /** Counts refused calls by reason code (metrics). */
  onRejected?: (info: { code: string; path: string }) => void;
  /** Each revocation the feed applies (verified), e.g. to keep new tokens' `iat` past `sub`/`all` ones. */
  onRevoked?: (event: RevocationEventClaims) => void;
  /** The key of the feed's mesh announcements (the auth service derives its own: attributable). */
  meshKey?: MeshKeySource;
  /** Events this process signed (./own-events.ts): the feed applies them without a signature check. */
  ownEvents?: Pick<OwnEvents, 'has'>;
}

/**
 * The auth service's own guard, built from the same interceptor package every protected service uses:
 * keys straight from the in-process key ring (no network hop, refreshed on every ring change) and the
 * revocation feed over the connection it is given. A caller token must carry the auth service's own
 * audience: a token minted for another service (say an admin's token for `echo`, which that service
 * receives) can never be replayed here to act on its holder's authority (RFC 8725 §3.9, RFC 9068 §4).
 * Tokens that are the OBJECT of a call (ExchangeToken's subject_token, Revoke's token target) are
 * verified by the handlers through `verify(token, { anyAudience: true })`: other audiences are the
 * point of those fields. `close()` also closes the key store and feed.
 */
export async function createGuard(options: GuardOptions): Promise<ServerAuth> {
  const { nc, keys, issuer, log, ownEvents } = options;
  const keyStore = createKeyStore(
    // Withdrawn keys verify revocation events only (never tokens): a kid revocation must not un-revoke.
    async () => ({ ...keys.jwks(), [EVENT_KEYS_MEMBER]: [...keys.eventKeys()] }),
    { refreshCooldownMs: 0, logger: log },
  );
  const stopRefreshing = keys.onChange(() => {
    keyStore.refresh().catch((err: unknown) => log.warn({ err }, 'key store refresh failed'));
  });
  const feed = createRevocationFeed({
    connection: nc,
    keys: keyStore,
    issuer,
    name: 'authmesh-auth-revocations',
    // The auth service enforces revocations on its own callers too: it is an instance of the mesh.
    audience: options.audience,
    ...(options.meshKey ? { meshKey: options.meshKey } : {}),
    ...(ownEvents ? { trustedEvent: (jws: string) => ownEvents.has(jws) } : {}),
  });
  const stopListening = options.onRevoked ? feed.onRevoked(options.onRevoked) : () => {};
  const auth = createServerAuth({
    issuer,
    audience: options.audience,
    jwks: { keyStore },
    revocations: { feed },
    // AuthService rules come from its .proto; health and reflection are added so they can be made public.
    packageDefinition: {
      ...authPackageDefinition(),
      ...healthPackageDefinition(),
      ...reflectionPackageDefinition(),
    },
    // Health checks are for load balancers and orchestrators, reflection for grpcurl: neither holds a token.
    rules: { ...HEALTH_RULES, ...REFLECTION_RULES },
    clockToleranceSec: Math.min(options.clockSkewSec, 300),
    logger: log,
    ...(options.onRejected ? { onRejected: options.onRejected } : {}),
  });
  return {
    interceptor: auth.interceptor,
    verify: (token, o) => auth.verify(token, o),
    ready: () => auth.ready(),
    isReady: () => auth.isReady(),
    async close() {
      stopRefreshing();
      stopListening();
      await auth.close();
      await feed.close();
      keyStore.close();
    },
  };
}
