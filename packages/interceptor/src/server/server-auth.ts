import { AuthError } from '../errors.js';
import { createKeyStore } from '../jwks/key-store.js';
import type { KeyStore } from '../jwks/key-store.types.js';
import { jwksFromAuthService, jwksFromUri } from '../jwks/sources.js';
import type { RevocationCheck } from '../revocation/revocation.types.js';
import { createAuthenticator } from '../verify/authenticator.js';
import { createVerifier } from '../verify/verifier.js';
import { createInterceptor, type OpenStream } from './interceptor.js';
import { parseServerAuthOptions, type ServerAuthOptions } from './options.js';
import { packageDefinitionOf } from '../reflection/proto-root.js';
import { checkOptionPlacement } from './option-placement.js';
import { buildRules } from './rules.js';
import type { ServerAuth } from './server-auth.types.js';

const NO_REVOCATIONS: RevocationCheck = Object.freeze({ epoch: 0, isRevoked: () => false });
/** How often open streams are checked against a stale feed, ms. */
const STALE_WATCH_MS = 250;

/**
 * Protects a grpc-js server: verifies the bearer token of every call (a warm token costs a Map
 * lookup), enforces the per-method rules, applies revocations and hands handlers the principal.
 * Options are validated here, once; a bad one is a TypeError that names it. `close()` closes what
 * this created (a key store built from `authTarget`/`jwksUri`/`source`); a `keyStore` or `feed`
 * passed in stays yours to close.
 *
 * @example
 * const auth = createServerAuth({ issuer, audience: 'echo', jwks: { keyStore }, revocations: { feed },
 *   packageDefinition: echoPackageDefinition() });
 * const server = new grpc.Server({ interceptors: [auth.interceptor] });
 */
export function createServerAuth(options: ServerAuthOptions): ServerAuth {
  const o = parseServerAuthOptions(options);
  if (o.protos) checkOptionPlacement(o.protos);
  const rules =
    o.protos && !o.packageDefinition
      ? buildRules(packageDefinitionOf(o.protos), o.rules, 'protos')
      : buildRules(o.packageDefinition, o.rules);

  let keys: KeyStore;
  let ownsKeys = true;
  const storeOptions = { algorithms: o.algorithms, refreshCooldownMs: o.jwksRefreshCooldownMs };
  if ('keyStore' in o.jwks) {
    keys = o.jwks.keyStore;
    ownsKeys = false;
  } else if ('authTarget' in o.jwks) {
    keys = createKeyStore(jwksFromAuthService(o.jwks.authTarget, o.jwks.credentials), storeOptions);
  } else if ('jwksUri' in o.jwks) {
    keys = createKeyStore(
      jwksFromUri(o.jwks.jwksUri, { allowInsecureHttp: o.jwks.allowInsecureHttp === true }),
      storeOptions,
    );
  } else {
    keys = createKeyStore(o.jwks.source, storeOptions);
  }

  const feed = o.feed;
  const revocations: RevocationCheck = feed ?? NO_REVOCATIONS;
  // A token accepted after its exp must still meet its revocation: the feed keeps entries graceSec
  // past their exp, so the tolerance never exceeds that.
  const clockToleranceSec =
    typeof feed?.graceSec === 'number' ? Math.min(o.clockToleranceSec, feed.graceSec) : o.clockToleranceSec;
  const verifier = createVerifier({
    keys,
    issuer: o.issuer,
    audiences: o.audiences,
    algorithms: o.algorithms,
    clockToleranceSec,
    maxTokenBytes: o.maxTokenBytes,
  });
  const authenticator = createAuthenticator(verifier, keys, revocations, o.cacheSize);
  // Metrics count the warm path with plain integers; only the cold path touches prom-client.
  const auth = o.metrics?.instrument(authenticator) ?? authenticator;

  let keysReady = false;
  const readyPromise = Promise.all([keys.ready().then(() => (keysReady = true)), feed?.ready()]).then(
    () => undefined,
  );
  readyPromise.catch(() => undefined); // surfaced through ready(); never an unhandled rejection
  const isReady = (): boolean => keysReady && (feed === undefined || feed.isReady());

  /** Refuses token checks before keys and revocations are loaded, or while revocations are stale. */
  function gate(): void {
    if (!keysReady || (feed !== undefined && !feed.isReady()))
      throw new AuthError('ERR_NOT_READY', 'not ready');
    if (feed !== undefined && feed.stalePolicy === 'reject' && feed.isStale())
      throw new AuthError('ERR_REVOCATIONS_STALE', 'revocations stale');
  }

  const openStreams = new Set<OpenStream>();
  // New calls see a revocation at once through the epoch compare; this sweep drops the cached
  // verdicts it hits and ends the open streams it hits. One sweep per burst of events (a replay can
  // deliver thousands), on the next turn of the event loop.
  let sweep: NodeJS.Immediate | undefined;
  const unsubscribe = feed?.onRevoked(() => {
    sweep ??= setImmediate(() => {
      sweep = undefined;
      auth.evictInvalid();
      for (const s of [...openStreams]) if (!auth.stillValid(s.principal)) s.end('ERR_TOKEN_REVOKED');
    });
  });

  // Under `reject`, a stale feed refuses new calls (gate) and ends the streams already open: they run
  // on tokens that may have been revoked elsewhere meanwhile.
  const staleWatch =
    feed?.stalePolicy === 'reject'
      ? setInterval(() => {
          if (openStreams.size > 0 && feed.isStale())
            for (const s of [...openStreams]) s.end('ERR_REVOCATIONS_STALE');
        }, STALE_WATCH_MS)
      : undefined;
  staleWatch?.unref();

  const interceptor = createInterceptor({
    rules,
    auth,
    gate,
    maxTokenBytes: o.maxTokenBytes,
    clockToleranceSec,
    openStreams,
    onRejected: o.onRejected,
    logger: o.logger,
  });

  return {
    interceptor,
    // Not async: another promise and its microtasks on every verification, for nothing.
    verify(token, verifyOptions) {
      try {
        gate();
      } catch (err) {
        return Promise.reject(err);
      }
      return auth.authenticate(token, verifyOptions?.anyAudience === true);
    },
    ready: () => readyPromise,
    isReady,
    async close() {
      unsubscribe?.();
      clearInterval(staleWatch);
      if (sweep !== undefined) clearImmediate(sweep);
      for (const s of [...openStreams]) s.end('ERR_NOT_READY');
      openStreams.clear();
      auth.cache.clear();
      if (ownsKeys) keys.close();
    },
  };
}
