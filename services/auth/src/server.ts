import * as grpc from '@grpc/grpc-js';
import {
  AUTHMESH_PROTOS,
  HEALTH_PROTOS,
  addHealthService,
  addReflectionService,
  serverCredentials,
  tlsFromEnv,
} from '@authmesh/interceptor';
import type { Logger } from 'pino';
import { authGrpc } from '@authmesh/interceptor/proto';
import { formatAddress, type AuthConfig, type ListenAddress } from './config.js';
import type { AuthServiceContext } from './context.types.js';
import { createGuard } from './guard.js';
import { OwnEvents } from './own-events.js';
import { createHttpHandler } from './http/handler.js';
import { createMeshPageHandler } from './http/mesh-page.js';
import { meshSnapshot } from './mesh/snapshot.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { loadDevKek } from './keys/dev-kek.js';
import { Kek } from './keys/kek.js';
import { AUTH_SERVICE_MESH_CLIENT, MESH_KEY_PURPOSE, MeshKeys } from './mesh/announcement-keys.js';
import { NatsKeyManager } from './keys/key-manager.js';
import { countAuditEvents, createAudit } from './audit.js';
import { RequestPipeline } from './request-pipeline.js';
import { createLogger } from './logger.js';
import { createAuthMetrics } from './metrics.js';
import { lifetimesOf, longest, publishLifetimes, readLifetimes, sameLifetimes } from './lifetimes.js';
import { recordIntegrity } from './stores/record-mac.js';
import {
  BUCKETS,
  connectNats,
  ensureRevocationStream,
  KEYS_ROTATED_SUBJECT,
  openBuckets,
  REVOCATION_STREAM,
  retryJetStreamSetup,
  trackConnection,
} from './nats.js';
import { recordIssuer } from './issuer.js';
import { createAuthHandlers } from './rpc/index.js';
import { createTokenMinter } from './tokens/minter.js';
import { RevokedThrough } from './tokens/revoked-through.js';

/** How often the stored lifetimes are re-read (another replica may have raised them), ms. */
const LIFETIMES_REFRESH_MS = 10_000;

/** A running auth service (gRPC + HTTP), as `startAuthService` returns it. */
export interface AuthService {
  /** Bound gRPC address, `127.0.0.1:40123`. */
  readonly grpcAddress: string;
  /** Bound HTTP address, `127.0.0.1:40124`. */
  readonly httpAddress: string;
  /** The admin listener's bound address (`/mesh`); undefined when AUTHMESH_ADMIN_ADDR=off. */
  readonly adminAddress: string | undefined;
  /** The issuer in effect (follows the HTTP address unless `AUTHMESH_ISSUER` is set). */
  readonly issuer: string;
  readonly context: AuthServiceContext;
  /** Graceful stop: gRPC tryShutdown (forced after `graceMs`), HTTP, feeds, then NATS drain. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Options of `startAuthService` beyond the configuration. */
export interface StartOptions {
  log?: Logger;
  /** Where the development-KEK warning goes (default stderr). */
  warn?: (message: string) => void;
}

/**
 * Starts the auth service: NATS and buckets, the key ring, the HTTP side (first, so a default issuer can
 * follow its bound address), the guard (in-process keys + revocation feed), the RPC handlers and gRPC.
 * Everything started is stopped again if a later step fails.
 */
export async function startAuthService(config: AuthConfig, options: StartOptions = {}): Promise<AuthService> {
  const log = options.log ?? createLogger('authmesh-auth');
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  const unwind = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        log.warn({ err }, 'shutdown step failed');
      }
    }
  };

  const metrics = createAuthMetrics({ mode: config.env });
  try {
    const nc = await connectNats(config.natsServers, { name: 'authmesh-auth' });
    cleanup.push(() => nc.drain());
    const natsConnected = trackConnection(nc, (type) => {
      if (type === 'disconnect' || type === 'reconnect') log.warn({ nats: type }, 'NATS connection %s', type);
    });
    metrics.trackNats(natsConnected);
    // The hot paths' KV requests, revocation publishes and audit events: written together per turn.
    const requests = new RequestPipeline(nc);
    cleanup.push(() => requests.close());
    const audit = createAudit({ nc: requests, log });
    // Counted from the audit subject, not from this replica's own calls: CLI revocations count too.
    const counted = countAuditEvents(nc, (name) => metrics.event(name));
    cleanup.push(() => counted.close());
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const { buckets } = await retryJetStreamSetup(
      async () => {
        const opened = await openBuckets(js, config.natsReplicas, config.refreshAbsoluteTtlSec);
        await ensureRevocationStream(jsm, {
          replicas: config.natsReplicas,
          maxTokenLifetimeSec: config.accessTtlSec + config.clockSkewSec,
        });
        return { buckets: opened };
      },
      {
        onRetry: (err, attempt) =>
          log.warn({ err, attempt }, 'JetStream not ready for the buckets/stream yet; retrying'),
      },
    );

    const kekBytes =
      config.kek ?? (await loadDevKek(buckets.keys, options.warn ?? ((m) => process.stderr.write(m))));
    // Every record read back from NATS that grants authority is checked under the KEK: one a NATS
    // writer made or changed is refused, counted and logged (where, never what), never trusted.
    const records = recordIntegrity(kekBytes, (refused) => {
      metrics.recordRefused(refused.bucket);
      log.error(refused, 'record refused: it fails its integrity check (not written under this KEK)');
    });
    const kek = new Kek(kekBytes);
    const meshKeys = new MeshKeys(kek.deriveKey(MESH_KEY_PURPOSE));
    const keysBucket = records.wrap(buckets.keys, BUCKETS.keys);
    // The lifetimes retention depends on, stored (raised, never lowered) for every other process: the
    // CLI and other replicas keep the stream, the buckets and retired keys as long as this service needs.
    const own = lifetimesOf(config);
    const lifetimes = await publishLifetimes(keysBucket, own);
    if (!sameLifetimes(lifetimes, own)) {
      await openBuckets(js, config.natsReplicas, lifetimes.refreshAbsoluteTtlSec);
      await ensureRevocationStream(jsm, {
        replicas: config.natsReplicas,
        maxTokenLifetimeSec: lifetimes.accessTtlSec + lifetimes.clockSkewSec,
      });
    }
    // Revocation events cover the stored lifetimes, re-read now and then: a replica started later with a
    // longer access TTL raises them, and tokens it mints must still meet revocations published here.
    let storedLifetimes = lifetimes;
    const lifetimesTimer = setInterval(() => {
      readLifetimes(keysBucket).then(
        (l) => (storedLifetimes = longest(storedLifetimes, l)),
        () => {}, // NATS unreachable: keep the last value (it is only ever raised)
      );
    }, LIFETIMES_REFRESH_MS);
    lifetimesTimer.unref();
    cleanup.push(() => clearInterval(lifetimesTimer));
    const keys = await NatsKeyManager.open({
      kv: keysBucket,
      kek,
      alg: config.signingAlg,
      // Retired keys stay published for the longest token lifetime of any replica (the stored one).
      accessTtlSec: lifetimes.accessTtlSec,
      clockSkewSec: lifetimes.clockSkewSec,
      rotationIntervalSec: config.keyRotationIntervalSec,
      announce: (event) => {
        nc.publish(KEYS_ROTATED_SUBJECT, JSON.stringify({ ...event, at: Math.floor(Date.now() / 1000) }));
        log.info(event, 'key ring changed');
        audit.record({
          event: 'key_rotated',
          kid: event.current,
          reason: event.withdrawn ? `withdrawn ${event.withdrawn}` : 'rotation',
        });
      },
      onError: (err) => log.error({ err }, 'key ring background work failed'),
    });
    cleanup.push(() => keys.close());
    keys.onChange(() => {
      metrics.keyRingChanged();
      log.info({ current: keys.current().kid }, 'key ring updated');
    });

    // HTTP first: with AUTHMESH_ISSUER unset, the issuer is the bound HTTP URL (port 0 in tests).
    let issuer = config.issuer;
    let guardReady = (): boolean => false;
    const http: HttpServer = await listening(
      'AUTHMESH_HTTP_ADDR',
      config.httpAddr,
      startHttpServer,
    )(
      config.httpAddr,
      createHttpHandler({
        keys,
        issuer: () => issuer,
        readiness: () => ({ nats: natsConnected(), keys: true, revocations: guardReady() }),
        mode: config.env,
        metrics: () => metrics.render(),
      }),
    );
    cleanup.push(() => http.close());
    if (config.issuerFollowsHttp) {
      issuer = `http://${http.address}`;
      if (/^(0\.0\.0\.0|\[::\]):/.test(http.address)) {
        log.warn(
          { issuer },
          'issuer follows a wildcard HTTP address: set AUTHMESH_ISSUER to the URL clients use',
        );
      }
    }
    const effective: AuthConfig = Object.freeze({ ...config, issuer });
    await recordIssuer(keysBucket, issuer);

    // Own Revokes are noted by the RPC layer at once, everyone else's as the guard's feed applies them.
    const revokedThrough = new RevokedThrough();
    const minter = metrics.countMints(
      createTokenMinter({
        issuer,
        accessTtlSec: config.accessTtlSec,
        keys,
        iatFloor: (sub) => revokedThrough.floor(sub),
      }),
    );
    // Events this process signs: its guard applies them without checking their signature again.
    const ownEvents = new OwnEvents();
    // The guard's feed gets a connection of its own (same servers and credentials): working through a
    // backlog of events (a bulk revocation), it would otherwise hold up the KV replies and publish acks
    // every RPC waits for, which one connection delivers in order on one socket.
    const feedNc = await connectNats(config.natsServers, { name: 'authmesh-auth-revocations' });
    cleanup.push(() => feedNc.drain());
    const guard = await createGuard({
      nc: feedNc,
      ownEvents,
      keys,
      issuer,
      audience: config.defaultAudience,
      clockSkewSec: config.clockSkewSec,
      log,
      onRejected: (info) => metrics.rejected(info.code),
      onRevoked: (event) => revokedThrough.note(event.kind, event.value, event.at),
      // The guard's feed announces like any service's, MACed under the auth service's own key.
      meshKey: (instanceId) =>
        Promise.resolve({ clientId: AUTH_SERVICE_MESH_CLIENT, key: meshKeys.serviceKeyFor(instanceId) }),
    });
    cleanup.push(() => guard.close());
    guardReady = () => guard.isReady();
    // Revoke/ExchangeToken need replayed revocations; public RPCs do not, so a slow replay only delays those.
    await withTimeout(guard.ready(), 10_000).catch((err: unknown) =>
      log.warn({ err }, 'guard not ready after 10 s (keys/revocations); serving, /readyz says not ready'),
    );

    const context: AuthServiceContext = Object.freeze({
      config: effective,
      nc,
      requests,
      js,
      jsm,
      keys,
      kek,
      meshKeys,
      records,
      minter,
      revokedThrough,
      guard,
      ownEvents,
      log,
      audit,
      metrics,
      lifetimes: () => storedLifetimes,
    });
    const rpc = await createAuthHandlers(context);
    cleanup.push(() => rpc.close());
    metrics.trackMesh({
      instances: () => rpc.mesh.instances(),
      streamLastSequence: async () => (await jsm.streams.info(REVOCATION_STREAM)).state.last_seq,
    });

    // The admin listener (loopback by default, see AUTHMESH_ADMIN_ADDR): the /mesh status page.
    let admin: HttpServer | undefined;
    if (config.adminAddr) {
      admin = await listening(
        'AUTHMESH_ADMIN_ADDR',
        config.adminAddr,
        startHttpServer,
      )(
        config.adminAddr,
        createMeshPageHandler(() => meshSnapshot(rpc.mesh, jsm)),
      );
      const adminServer = admin;
      cleanup.push(() => adminServer.close());
    }

    const server = new grpc.Server({ interceptors: [guard.interceptor] });
    server.addService(authGrpc().authmesh.v1.AuthService.service, rpc.handlers);
    // grpc.health.v1 (public in the guard): SERVING for "" and the AuthService while NATS is connected
    // and the guard has its keys and replayed revocations; NOT_SERVING first thing on shutdown.
    const health = addHealthService(server, { isReady: () => guard.isReady() && natsConnected() }, [
      'authmesh.v1.AuthService',
    ]);
    // Descriptors built from the shipped .proto files: real file names and dependencies (strict clients).
    addReflectionService(server, [AUTHMESH_PROTOS, HEALTH_PROTOS]);
    const port = await listening('AUTHMESH_GRPC_ADDR', config.grpcAddr, bindGrpc)(server, config.grpcAddr);
    let grpcGraceMs = 5000;
    cleanup.push(() => shutdownGrpc(server, grpcGraceMs));
    cleanup.push(() => health.close());
    const grpcAddress = formatAddress({ host: config.grpcAddr.host, port });
    log.info(
      { grpc: grpcAddress, http: http.address, admin: admin?.address, issuer, kid: keys.current().kid },
      'auth service listening',
    );

    let closing: Promise<void> | undefined;
    return {
      grpcAddress,
      httpAddress: http.address,
      adminAddress: admin?.address,
      issuer,
      context,
      close: (graceMs = 5000) => {
        grpcGraceMs = graceMs;
        return (closing ??= unwind());
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** tryShutdown lets calls in flight finish; after `graceMs` the rest are cancelled. */
function shutdownGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function bindGrpc(server: grpc.Server, addr: ListenAddress): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    // AUTHMESH_TLS_* (packages/interceptor/src/tls.ts): TLS or mTLS; plaintext when no certificate is set.
    server.bindAsync(formatAddress(addr), serverCredentials(tlsFromEnv()), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
}

/** Wraps a listen step so a failure (port in use, bad host) names the variable and the address. */
function listening<A extends unknown[], R>(
  variable: string,
  addr: ListenAddress,
  start: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await start(...args);
    } catch (cause) {
      const reason = (cause as { code?: string }).code ?? (cause as Error).message;
      throw new Error(`cannot listen on ${formatAddress(addr)} (${variable}): ${reason}`, { cause });
    }
  };
}
