import type * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { HealthImplementation, protoPath, type ServingStatus } from 'grpc-health-check';
import type { RevocationFeed } from './revocation/revocation.types.js';
import type { MethodRule } from './server/rules.js';

/**
 * Rules making `grpc.health.v1.Health` public: load balancers and orchestrators hold no token.
 * Pass them in `createServerAuth({ rules })` with `healthPackageDefinition()` merged into its
 * `packageDefinition` (an override for a method the definition lacks is refused).
 */
export const HEALTH_RULES: Readonly<Record<string, MethodRule>> = Object.freeze({
  '/grpc.health.v1.Health/Check': { public: true },
  '/grpc.health.v1.Health/Watch': { public: true },
});

/** The package definition of `grpc.health.v1` (to merge into the one given to `createServerAuth`). */
export function healthPackageDefinition(): PackageDefinition {
  return loadSync(protoPath);
}

/** Options of `addHealthService`. */
export interface HealthServiceOptions {
  /**
   * The revocation feed behind the server auth: with its `stalePolicy` "reject", a stale feed turns
   * the services NOT_SERVING (calls would be refused UNAVAILABLE anyway, so traffic should go elsewhere).
   */
  feed?: Pick<RevocationFeed, 'isStale' | 'stalePolicy'>;
  /** How often readiness is sampled, ms (default 250). Status changes are pushed to `Watch` callers. */
  intervalMs?: number;
}

/** The health service added to a server; `close()` stops sampling and reports NOT_SERVING. */
export interface HealthService {
  /** The grpc-health-check implementation, for statuses of your own. */
  readonly implementation: HealthImplementation;
  /** The status currently reported for the protected services. */
  status(): ServingStatus;
  /** Samples readiness now (also done every `intervalMs`). */
  update(): ServingStatus;
  /** Reports NOT_SERVING (call it first when shutting down, so balancers drain) and stops sampling. */
  close(): void;
}

/**
 * Adds `grpc.health.v1.Health` to `server`, reporting SERVING for `""` and each of `serviceNames`
 * exactly while the server auth is ready (keys loaded, revocations replayed) and, when `feed` is
 * given with policy "reject", the feed is not stale; NOT_SERVING otherwise.
 *
 * @example
 * const health = addHealthService(server, auth, ['echo.v1.Echo'], { feed });
 */
export function addHealthService(
  server: grpc.Server,
  serverAuth: { isReady(): boolean; ready?(): Promise<void> },
  serviceNames: readonly string[],
  options: HealthServiceOptions = {},
): HealthService {
  if (typeof serverAuth?.isReady !== 'function')
    throw new TypeError('serverAuth: must have isReady() (a ServerAuth)');
  if (!Array.isArray(serviceNames) || !serviceNames.every((s) => typeof s === 'string' && s !== ''))
    throw new TypeError('serviceNames: must be an array of non-empty service names');
  const intervalMs = options.intervalMs ?? 250;
  if (!Number.isInteger(intervalMs) || intervalMs <= 0)
    throw new TypeError('intervalMs: must be a positive integer (ms)');
  const { feed } = options;
  if (feed !== undefined && typeof feed.isStale !== 'function')
    throw new TypeError('feed: must have isStale() (a RevocationFeed)');

  const names = ['', ...serviceNames];
  const implementation = new HealthImplementation(
    Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as ServingStatus])),
  );
  implementation.addToServer(server);

  let current: ServingStatus = 'NOT_SERVING';
  let closed = false;
  const set = (status: ServingStatus): ServingStatus => {
    // setStatus notifies every Watch stream, so only call it on a change.
    if (status !== current) {
      current = status;
      for (const n of names) implementation.setStatus(n, status);
    }
    return current;
  };
  const update = (): ServingStatus => {
    if (closed) return current;
    const stale = feed !== undefined && feed.stalePolicy === 'reject' && feed.isStale();
    return set(serverAuth.isReady() && !stale ? 'SERVING' : 'NOT_SERVING');
  };
  const timer = setInterval(update, intervalMs);
  timer.unref();
  update();
  // Flip the moment readiness arrives, not a sampling interval later (a service usually starts
  // listening right after `ready()` resolves, and this callback was registered before its await).
  serverAuth.ready?.().then(update, () => undefined);

  return {
    implementation,
    status: () => current,
    update,
    close() {
      if (closed) return;
      set('NOT_SERVING');
      closed = true;
      clearInterval(timer);
    },
  };
}
