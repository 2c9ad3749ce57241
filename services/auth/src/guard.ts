import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import {
  createKeyStore,
  createRevocationFeed,
  createServerAuth,
  HEALTH_RULES,
  healthPackageDefinition,
  REFLECTION_RULES,
  reflectionPackageDefinition,
  type ServerAuth,
} from '@authmesh/interceptor';
import { authPackageDefinition } from '@authmesh/interceptor/proto';
import type { KeyManager } from './keys/key-manager.types.js';

/** What the guard needs. */
export interface GuardOptions {
  nc: NatsConnection;
  keys: KeyManager;
  issuer: string;
  clockSkewSec: number;
  log: Logger;
  /** Counts refused calls by reason code (metrics). */
  onRejected?: (info: { code: string; path: string }) => void;
}

/**
 * The auth service's own guard, built from the same interceptor package every protected service uses:
 * keys straight from the in-process key ring (no network hop, refreshed on every ring change) and the
 * revocation feed over the shared NATS connection. Any audience is accepted: callers of Revoke and
 * ExchangeToken present tokens minted for other services. `close()` also closes the key store and feed.
 */
export async function createGuard(options: GuardOptions): Promise<ServerAuth> {
  const { nc, keys, issuer, log } = options;
  const keyStore = createKeyStore(async () => keys.jwks(), { refreshCooldownMs: 0, logger: log });
  const stopRefreshing = keys.onChange(() => {
    keyStore.refresh().catch((err: unknown) => log.warn({ err }, 'key store refresh failed'));
  });
  const feed = createRevocationFeed({
    connection: nc,
    keys: keyStore,
    issuer,
    name: 'authmesh-auth-revocations',
  });
  const auth = createServerAuth({
    issuer,
    acceptAnyAudience: true,
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
      await auth.close();
      await feed.close();
      keyStore.close();
    },
  };
}
