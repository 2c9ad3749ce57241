import { readFileSync } from 'node:fs';
import type { SigningAlg } from './keys/key-manager.types.js';
import { parseTrustedProxies } from './peer.js';

/** A host and port to listen on, as parsed from `host:port` (`[::1]:port` for IPv6). */
export interface ListenAddress {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/**
 * `production` (the default) refuses to start without a KEK (`AUTHMESH_KEK` or `AUTHMESH_KEK_FILE`);
 * `development` (only when set explicitly) generates one, keeps it in NATS and says so loudly.
 */
export type AuthEnv = 'production' | 'development';

/** The auth service's configuration, read from the environment once by `loadConfig`. */
export interface AuthConfig {
  /** `AUTHMESH_ENV`; default `production` (`NODE_ENV` does not decide: development is an explicit choice). */
  readonly env: AuthEnv;
  /** `NATS_URL` split on commas, default `nats://127.0.0.1:4222`. */
  readonly natsServers: readonly string[];
  /** `AUTHMESH_GRPC_ADDR`, default `127.0.0.1:50051`. */
  readonly grpcAddr: ListenAddress;
  /** `AUTHMESH_HTTP_ADDR`, default `127.0.0.1:8080`. */
  readonly httpAddr: ListenAddress;
  /**
   * `AUTHMESH_ADMIN_ADDR`: the admin HTTP listener (the `/mesh` status page), default `127.0.0.1:0`
   * (loopback, a free port, printed in the `listening` line); `off` disables it. A host that is not
   * loopback needs `AUTHMESH_ALLOW_INSECURE_ADMIN_ADDR=true`: the page has no authentication.
   */
  readonly adminAddr: ListenAddress | undefined;
  /**
   * `iss` of issued tokens. `AUTHMESH_ISSUER` when set; otherwise `http://<bound HTTP address>` once the
   * HTTP server listens (equal to the contract default `http://127.0.0.1:8080` at the default address,
   * and correct under port 0, where tests run), see `issuerFollowsHttp`.
   */
  readonly issuer: string;
  /** True when `AUTHMESH_ISSUER` was not set: the server replaces `issuer` with its bound HTTP URL. */
  readonly issuerFollowsHttp: boolean;
  /** `AUTHMESH_DEFAULT_AUDIENCE`, default `authmesh`. */
  readonly defaultAudience: string;
  /** `AUTHMESH_ACCESS_TTL`, seconds, default 300. */
  readonly accessTtlSec: number;
  /**
   * The KEK (32 bytes) from `AUTHMESH_KEK` or the file `AUTHMESH_KEK_FILE` names; undefined only in
   * development (then the one the service stored in the keys bucket is used).
   */
  readonly kek: Buffer | undefined;
  /** `AUTHMESH_SIGNING_ALG`, default `EdDSA` (Ed25519); `ES256` selectable. */
  readonly signingAlg: SigningAlg;
  /** `AUTHMESH_KEY_ROTATION_INTERVAL`, seconds, default 86400; 0 disables scheduled rotation. */
  readonly keyRotationIntervalSec: number;
  /** `AUTHMESH_REFRESH_IDLE_TTL`, seconds, default 1209600 (14 days). */
  readonly refreshIdleTtlSec: number;
  /** `AUTHMESH_REFRESH_ABSOLUTE_TTL`, seconds, default 2592000 (30 days). */
  readonly refreshAbsoluteTtlSec: number;
  /**
   * `AUTHMESH_REFRESH_RETRY_GRACE`, seconds, default 15; 0 disables: how long a rotated refresh token
   * presented again (lost answer, concurrent refresh) gets the same successor while that is unused.
   */
  readonly refreshRetryGraceSec: number;
  /** `AUTHMESH_LOGIN_MAX_FAILURES`: failed logins per (username, peer) before delays, default 5 (across replicas). */
  readonly loginMaxFailures: number;
  /** `AUTHMESH_LOGIN_BASE_DELAY_MS`: the first delay once a login budget is used up (then doubling), ms, default 1000. */
  readonly loginBaseDelayMs: number;
  /**
   * `AUTHMESH_TRUSTED_PROXIES`: comma-separated IP addresses or CIDR ranges of proxies whose
   * `x-forwarded-for` names the client for login throttling; default none (the connection's address counts).
   */
  readonly trustedProxies: readonly string[];
  /** `AUTHMESH_SCRYPT_N`, scrypt cost (power of two), default 131072 (2^17). */
  readonly scryptN: number;
  /** `AUTHMESH_NATS_REPLICAS`, replicas of the KV buckets and the revocation stream, default 1. */
  readonly natsReplicas: number;
  /** `AUTHMESH_CLOCK_SKEW`, seconds of clock tolerance, default 30. */
  readonly clockSkewSec: number;
}

/** A bad environment variable; `variable` names it and the message says what to set. */
export class ConfigError extends TypeError {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

const KEK_HINT =
  "set AUTHMESH_KEK to 32 random bytes in base64url, e.g. the output of `node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\"`";

/**
 * Reads and validates the auth service's environment once. Throws a `ConfigError` naming the first bad
 * variable; never echoes a secret's value.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  // Production unless development is asked for by name (DESIGN.md `AUTHMESH_ENV`): a deployment that
  // forgets the KEK must fail to start, not quietly keep its signing keys' KEK in NATS.
  const mode = get('AUTHMESH_ENV') ?? 'production';
  if (mode !== 'production' && mode !== 'development') {
    throw new ConfigError('AUTHMESH_ENV', `must be "production" or "development", got "${mode}"`);
  }

  const kek = readKek(env);
  if (kek === undefined && mode === 'production') {
    throw new ConfigError(
      'AUTHMESH_KEK',
      `is required (AUTHMESH_ENV defaults to production) to encrypt and authenticate the signing keys and records in NATS: ${KEK_HINT}, ` +
        'or set AUTHMESH_KEK_FILE to a file holding it (Docker/Kubernetes secrets); ' +
        'or set AUTHMESH_ENV=development explicitly to have one generated and stored in NATS (never in production)',
    );
  }

  const alg = get('AUTHMESH_SIGNING_ALG') ?? 'EdDSA';
  if (alg !== 'EdDSA' && alg !== 'ES256') {
    throw new ConfigError('AUTHMESH_SIGNING_ALG', `must be "EdDSA" or "ES256", got "${alg}"`);
  }

  const issuerText = get('AUTHMESH_ISSUER');
  if (issuerText !== undefined) checkIssuer(issuerText);
  const httpAddr = parseAddress('AUTHMESH_HTTP_ADDR', get('AUTHMESH_HTTP_ADDR') ?? '127.0.0.1:8080');

  const natsServers = readNatsServers(env);
  const adminAddr = readAdminAddr(
    get('AUTHMESH_ADMIN_ADDR') ?? '127.0.0.1:0',
    get('AUTHMESH_ALLOW_INSECURE_ADMIN_ADDR'),
  );

  const audience = get('AUTHMESH_DEFAULT_AUDIENCE') ?? 'authmesh';
  if (/\s/.test(audience)) throw new ConfigError('AUTHMESH_DEFAULT_AUDIENCE', 'must not contain whitespace');

  const refreshIdleTtlSec = int(env, 'AUTHMESH_REFRESH_IDLE_TTL', 1_209_600, 1);
  const refreshAbsoluteTtlSec = int(env, 'AUTHMESH_REFRESH_ABSOLUTE_TTL', 2_592_000, 1);
  if (refreshIdleTtlSec > refreshAbsoluteTtlSec) {
    throw new ConfigError('AUTHMESH_REFRESH_IDLE_TTL', 'must not exceed AUTHMESH_REFRESH_ABSOLUTE_TTL');
  }
  const scryptN = int(env, 'AUTHMESH_SCRYPT_N', 131_072, 2);
  if ((scryptN & (scryptN - 1)) !== 0) throw new ConfigError('AUTHMESH_SCRYPT_N', 'must be a power of two');
  const natsReplicas = int(env, 'AUTHMESH_NATS_REPLICAS', 1, 1, 5);
  let trustedProxies: string[];
  try {
    trustedProxies = parseTrustedProxies(get('AUTHMESH_TRUSTED_PROXIES') ?? '');
  } catch (err) {
    throw new ConfigError(
      'AUTHMESH_TRUSTED_PROXIES',
      `${(err as Error).message}; list IPs or CIDR ranges, comma-separated`,
    );
  }

  return Object.freeze({
    env: mode,
    natsServers: Object.freeze(natsServers),
    grpcAddr: parseAddress('AUTHMESH_GRPC_ADDR', get('AUTHMESH_GRPC_ADDR') ?? '127.0.0.1:50051'),
    httpAddr,
    adminAddr,
    issuer: issuerText ?? `http://${formatAddress(httpAddr)}`,
    issuerFollowsHttp: issuerText === undefined,
    defaultAudience: audience,
    accessTtlSec: int(env, 'AUTHMESH_ACCESS_TTL', 300, 1, 86_400),
    kek,
    signingAlg: alg,
    keyRotationIntervalSec: int(env, 'AUTHMESH_KEY_ROTATION_INTERVAL', 86_400, 0),
    refreshIdleTtlSec,
    refreshAbsoluteTtlSec,
    refreshRetryGraceSec: int(env, 'AUTHMESH_REFRESH_RETRY_GRACE', 15, 0, 300),
    loginMaxFailures: int(env, 'AUTHMESH_LOGIN_MAX_FAILURES', 5, 1, 1000),
    loginBaseDelayMs: int(env, 'AUTHMESH_LOGIN_BASE_DELAY_MS', 1000, 1, 60_000),
    trustedProxies: Object.freeze(trustedProxies),
    scryptN,
    natsReplicas,
    clockSkewSec: int(env, 'AUTHMESH_CLOCK_SKEW', 30, 0, 600),
  });
}

/** `NATS_URL` (comma-separated, default `nats://127.0.0.1:4222`) alone, for commands that need nothing else. */
export function readNatsServers(env: NodeJS.ProcessEnv = process.env): string[] {
  const servers = (env.NATS_URL?.trim() || 'nats://127.0.0.1:4222')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('NATS_URL', 'names no server');
  return servers;
}

/**
 * The KEK from `AUTHMESH_KEK`, or from the file `AUTHMESH_KEK_FILE` names (one trailing newline or
 * surrounding whitespace tolerated, as secrets mounted from files usually end with one); undefined when
 * neither is set. Errors name the variable and the file, never the content.
 */
export function readKek(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const text = env.AUTHMESH_KEK?.trim() || undefined;
  const file = env.AUTHMESH_KEK_FILE?.trim() || undefined;
  if (text !== undefined && file !== undefined) {
    throw new ConfigError('AUTHMESH_KEK_FILE', 'set either AUTHMESH_KEK or AUTHMESH_KEK_FILE, not both');
  }
  if (text !== undefined) return decodeKek(text);
  if (file === undefined) return undefined;
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'unreadable';
    throw new ConfigError('AUTHMESH_KEK_FILE', `cannot read ${file} (${code})`);
  }
  return decodeKek(content.trim(), 'AUTHMESH_KEK_FILE', `the content of ${file}`);
}

/** Decodes a base64url KEK of exactly 32 bytes; the error never contains the value. */
export function decodeKek(text: string, variable = 'AUTHMESH_KEK', subject = ''): Buffer {
  const prefix = subject === '' ? '' : `${subject} `;
  if (!/^[A-Za-z0-9_-]{43}=?$/.test(text)) {
    throw new ConfigError(variable, `${prefix}must be 32 bytes in base64url (43 characters); ${KEK_HINT}`);
  }
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.length !== 32) throw new ConfigError(variable, `${prefix}must decode to 32 bytes; ${KEK_HINT}`);
  return bytes;
}

function readAdminAddr(text: string, allowInsecure: string | undefined): ListenAddress | undefined {
  if (text === 'off') return undefined;
  const addr = parseAddress('AUTHMESH_ADMIN_ADDR', text);
  if (allowInsecure !== undefined && allowInsecure !== 'true' && allowInsecure !== 'false')
    throw new ConfigError(
      'AUTHMESH_ALLOW_INSECURE_ADMIN_ADDR',
      `must be true or false, got "${allowInsecure}"`,
    );
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(addr.host);
  if (!loopback && allowInsecure !== 'true')
    throw new ConfigError(
      'AUTHMESH_ADMIN_ADDR',
      `must be a loopback address (the admin pages have no authentication), got "${text}"; set AUTHMESH_ALLOW_INSECURE_ADMIN_ADDR=true to expose it anyway, or "off"`,
    );
  return addr;
}

/** `host:port` → ListenAddress; IPv6 hosts in brackets. */
export function parseAddress(variable: string, text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535)
    throw new ConfigError(variable, `must be host:port (port 0 picks a free one), got "${text}"`);
  return Object.freeze({ host: (m[1] ?? m[2])!, port });
}

/** ListenAddress → `host:port` (IPv6 in brackets). */
export function formatAddress(addr: ListenAddress): string {
  return addr.host.includes(':') ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

function checkIssuer(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('AUTHMESH_ISSUER', `must be an http(s) URL, got "${text}"`);
  }
  // OpenID Connect Discovery 1.0 §3: the issuer is an https URL with no query or fragment (http allowed here for loopback/dev).
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(
      'AUTHMESH_ISSUER',
      `must be an http(s) URL without query or fragment, got "${text}"`,
    );
  }
}

function int(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(name, `must be a whole number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}
