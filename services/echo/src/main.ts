/**
 * The echo service: the reference protected gRPC service. Copy this file to protect your own:
 * 1. keys (JWKS from the auth service) + revocation feed (NATS) → `createServerAuth`;
 * 2. `auth.interceptor` first in the server's interceptors; rules come from the .proto;
 * 3. handlers read `getPrincipal(call)`; calls to other services use a token exchanger.
 */
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  addHealthService,
  addReflectionService,
  channelCredentials,
  authmeshMetrics,
  clientCredentialsSource,
  createKeyStore,
  createRevocationFeed,
  createServerAuth,
  createTokenExchanger,
  HEALTH_PROTOS,
  HEALTH_RULES,
  healthPackageDefinition,
  jwksFromAuthService,
  meshKeyFromAuthService,
  protoDir,
  REFLECTION_RULES,
  reflectionPackageDefinition,
  serverCredentials,
  tlsFromEnv,
} from '@authmesh/interceptor';
import { echoGrpc, echoPackageDefinition, echoProtoDir, echoProtoFile } from './proto.js';
import { loadConfig, redactNatsUrl } from './config.js';
import { echoHandlers } from './handlers.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { Relay } from './relay.js';

const log = pino({ name: 'echo' }, pino.destination(2));
const config = loadConfig();
// Plaintext only on loopback unless explicitly allowed (a compose network): tokens and JWKS travel here.
// AUTHMESH_TLS_*: with a certificate, every channel (auth service, relays) is TLS and presents it (mTLS).
const tls = tlsFromEnv();
const tlsCredentials = channelCredentials(tls);
const authCredentials =
  tlsCredentials ?? (config.allowInsecureTransport ? grpc.credentials.createInsecure() : undefined);

// Metrics are registered whether or not ECHO_METRICS_ADDR exposes them: nothing runs per accepted call.
const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'echo_' });
const metrics = authmeshMetrics(registry);
const keys = createKeyStore(metrics.countJwks(jwksFromAuthService(config.authTarget, authCredentials)), {
  logger: log,
});
// Relay needs this service's own identity to exchange the caller's token; the mesh announcements use it
// to become attributable.
const ownToken =
  config.clientId && config.clientSecret
    ? clientCredentialsSource({
        authTarget: config.authTarget,
        ...(authCredentials ? { credentials: authCredentials } : {}),
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        // Least privilege: this identity only exchanges tokens, at the auth service (whose own audience
        // is the default one, so none is named): never echo's or anything else's scopes.
        scope: 'authmesh:exchange',
      })
    : undefined;
const relay = ownToken
  ? new Relay(
      createTokenExchanger({
        authTarget: config.authTarget,
        ...(authCredentials ? { credentials: authCredentials } : {}),
        clientSource: ownToken,
      }),
      {
        allowInsecureTransport: config.allowInsecureTransport,
        ...(tlsCredentials ? { credentials: tlsCredentials } : {}),
      },
    )
  : undefined;

const feed = createRevocationFeed({
  servers: config.natsUrl,
  keys,
  issuer: config.issuer,
  maxStalenessMs: config.maxStalenessMs,
  stalePolicy: config.stalePolicy,
  // Announced on authmesh.mesh.> so `authmesh revoke --wait` and `mesh status` can name this service.
  audience: config.audience,
  announceIntervalMs: config.meshAnnounceMs,
  // With client credentials the announcements are MACed under a key the auth service gives this
  // instance (GetMeshKey), so a forged one cannot confirm a revocation for it; without, unauthenticated.
  ...(ownToken
    ? {
        meshKey: meshKeyFromAuthService({
          authTarget: config.authTarget,
          ...(authCredentials ? { credentials: authCredentials } : {}),
          clientSource: ownToken,
        }),
      }
    : {}),
});
metrics.watchFeed(feed);
// Health and reflection are public (balancers and grpcurl hold no token); Echo's rules come from its .proto,
// whose custom options are checked at start (`protos`: a rule on anything but a method stops the start).
const served = echoPackageDefinition();
const echoProtos = { files: echoProtoFile, includeDirs: [echoProtoDir, protoDir] };
const auth = createServerAuth({
  issuer: config.issuer,
  audience: config.audience,
  jwks: { keyStore: keys },
  revocations: { feed },
  packageDefinition: { ...served, ...healthPackageDefinition(), ...reflectionPackageDefinition() },
  protos: echoProtos,
  rules: { ...HEALTH_RULES, ...REFLECTION_RULES },
  metrics,
  logger: log,
});

const server = new grpc.Server({ interceptors: [auth.interceptor] });
server.addService(echoGrpc().echo.v1.Echo.service, echoHandlers(relay));
// NOT_SERVING until keys are loaded and revocations replayed, and again while the feed is stale.
const health = addHealthService(server, auth, ['echo.v1.Echo'], { feed });
// Descriptors built from the .proto files themselves: real file names and dependencies (strict clients).
addReflectionService(server, [echoProtos, HEALTH_PROTOS]);

let metricsServer: MetricsServer | undefined;
async function start(): Promise<void> {
  log.info(
    { authTarget: config.authTarget, nats: redactNatsUrl(config.natsUrl) },
    'waiting for keys and the revocation replay',
  );
  await auth.ready();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(config.grpcAddr, serverCredentials(tls), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const host = config.grpcAddr.slice(0, config.grpcAddr.lastIndexOf(':'));
  const grpcAddr = `${host}:${port}`;
  if (config.metricsAddr) metricsServer = await startMetricsServer(config.metricsAddr, registry);
  const metricsAddr = metricsServer?.address;
  log.info({ grpc: grpcAddr, metrics: metricsAddr, audience: config.audience }, 'echo listening');
  process.stdout.write(
    JSON.stringify({ event: 'listening', grpc: grpcAddr, metrics: metricsAddr, audience: config.audience }) +
      '\n',
  );
}

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  health.close();
  const force = setTimeout(() => server.forceShutdown(), 5000).unref();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  clearTimeout(force);
  relay?.close();
  ownToken?.close?.();
  metrics.close();
  await metricsServer?.close();
  await auth.close();
  await feed.close();
  keys.close();
  process.exit(0);
}

process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
start().catch((err: unknown) => {
  log.fatal({ err }, 'echo failed to start');
  process.exit(1);
});
