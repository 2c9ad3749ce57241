/** The echo service's settings, read once from the environment (names from DESIGN.md). */
export interface EchoConfig {
  /** `ECHO_GRPC_ADDR`: listen address; port 0 picks a free port. */
  grpcAddr: string;
  /** `AUTHMESH_AUDIENCE`: the `aud` this instance accepts. */
  audience: string;
  /** `AUTHMESH_ISSUER`: the `iss` tokens must carry. */
  issuer: string;
  /** `AUTHMESH_AUTH_TARGET`: the auth service (JWKS, token exchange). */
  authTarget: string;
  /** `NATS_URL`: comma-separated NATS servers carrying revocations. */
  natsUrl: string;
  /** `AUTHMESH_CLIENT_ID` / `AUTHMESH_CLIENT_SECRET`: this service's own identity, needed by Relay. */
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** `AUTHMESH_MAX_STALENESS_MS`: how long the revocation feed may lag before it counts as stale. */
  maxStalenessMs: number;
  /** `AUTHMESH_STALE_POLICY`: `reject` (stale → UNAVAILABLE) or `allow`. */
  stalePolicy: 'reject' | 'allow';
  /** `AUTHMESH_ALLOW_INSECURE_TRANSPORT=true`: plaintext gRPC to a non-loopback auth service (compose networks). */
  allowInsecureTransport: boolean;
  /** `ECHO_METRICS_ADDR`: where `GET /metrics` (Prometheus) is served; unset: no metrics endpoint. */
  metricsAddr: string | undefined;
  /** `AUTHMESH_MESH_ANNOUNCE_MS`: period of this instance's mesh announcements (50..2000, default 2000). */
  meshAnnounceMs: number;
}

/** Parses the environment; a bad value throws an Error naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EchoConfig {
  const num = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`${name} must be a positive integer (ms), got "${raw}"`);
    return n;
  };
  const stalePolicy = env.AUTHMESH_STALE_POLICY || 'reject';
  if (stalePolicy !== 'reject' && stalePolicy !== 'allow') {
    throw new Error(`AUTHMESH_STALE_POLICY must be "reject" or "allow", got "${stalePolicy}"`);
  }
  const clientId = env.AUTHMESH_CLIENT_ID || undefined;
  const clientSecret = env.AUTHMESH_CLIENT_SECRET || undefined;
  if ((clientId === undefined) !== (clientSecret === undefined)) {
    throw new Error('AUTHMESH_CLIENT_ID and AUTHMESH_CLIENT_SECRET must be set together');
  }
  const insecure = env.AUTHMESH_ALLOW_INSECURE_TRANSPORT ?? '';
  if (!['', 'true', 'false', '1', '0'].includes(insecure)) {
    throw new Error(`AUTHMESH_ALLOW_INSECURE_TRANSPORT must be true or false, got "${insecure}"`);
  }
  const meshAnnounceMs = num('AUTHMESH_MESH_ANNOUNCE_MS', 2000);
  if (meshAnnounceMs < 50 || meshAnnounceMs > 2000)
    throw new Error(`AUTHMESH_MESH_ANNOUNCE_MS must be from 50 to 2000 (ms), got "${meshAnnounceMs}"`);
  return {
    meshAnnounceMs,
    grpcAddr: env.ECHO_GRPC_ADDR || '127.0.0.1:50061',
    audience: env.AUTHMESH_AUDIENCE || 'echo',
    issuer: env.AUTHMESH_ISSUER || 'http://127.0.0.1:8080',
    authTarget: env.AUTHMESH_AUTH_TARGET || '127.0.0.1:50051',
    natsUrl: env.NATS_URL || 'nats://127.0.0.1:4222',
    clientId,
    clientSecret,
    maxStalenessMs: num('AUTHMESH_MAX_STALENESS_MS', 30_000),
    stalePolicy,
    allowInsecureTransport: insecure === 'true' || insecure === '1',
    metricsAddr: env.ECHO_METRICS_ADDR || undefined,
  };
}

/** `NATS_URL` for log lines: each server's `user:password@` (or token@) replaced by `***@`. */
export function redactNatsUrl(natsUrl: string): string {
  return natsUrl
    .split(',')
    .map((url) => url.replace(/^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)[^@/]*@/i, '$1***@'))
    .join(',');
}
