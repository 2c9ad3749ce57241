import type * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { AuthErrorCode } from '../errors.js';
import type { AuthmeshMetrics } from '../metrics.js';
import type { JwksSource, KeyStore } from '../jwks/key-store.types.js';
import { parseAlgorithms } from '../jwks/key-store.js';
import { isProtoFiles, type ProtoFiles } from '../reflection/proto-root.js';
import type { RevocationFeed } from '../revocation/revocation.types.js';
import type { StatusLogger } from '../status.js';
import type { MethodRule } from './rules.js';

/** Where the verification keys come from. A `keyStore` you pass in is yours to close. */
export type JwksOption =
  | { authTarget: string; credentials?: grpc.ChannelCredentials }
  | { jwksUri: string; allowInsecureHttp?: boolean }
  | { source: JwksSource }
  | { keyStore: KeyStore };

/** The revocation feed (yours to close), or the explicit, insecure choice to run without one. */
export type RevocationsOption = { feed: RevocationFeed } | { allowInsecureNoRevocations: true };

/** What the interceptor reports for each rejected call (for metrics by reason; never the token). */
export interface RejectionInfo {
  code: AuthErrorCode | 'ERR_UNEXPECTED';
  path: string;
}

/** Options of `createServerAuth`, validated once; a bad one is a TypeError naming it. */
export interface ServerAuthOptions {
  /** Exact `iss` accepted. */
  issuer: string;
  /** The audience(s) this service accepts; required unless `acceptAnyAudience`. */
  audience?: string | string[];
  /**
   * Accept tokens for any audience. Dangerous: a token minted for one service is then accepted here;
   * authmesh's own auth service does not use it (callers must carry its audience).
   */
  acceptAnyAudience?: boolean;
  jwks: JwksOption;
  revocations: RevocationsOption;
  /** proto-loader package definition whose `(authmesh.v1.rule)` options give the per-method rules. */
  packageDefinition?: PackageDefinition;
  /**
   * The .proto files of the services (`{ files, includeDirs }`, e.g. `{ files: 'billing/v1/billing.proto',
   * includeDirs: ['proto', protoDir] }`), checked at construction as protoc would: every custom option
   * must name a declared extension of the options of the element it is on, so an `(authmesh.v1.rule)` on
   * a field or a service, or a misspelled one, is a TypeError naming the file and the element (the
   * package definition carries no trace of those). Without `packageDefinition`, the rules come from
   * these files.
   */
  protos?: ProtoFiles | readonly ProtoFiles[];
  /** Per-method overrides keyed by path (`/pkg.Svc/Method`); an override wins over the proto. */
  rules?: Record<string, MethodRule>;
  /** Accepted JWS algorithms. Default `['EdDSA', 'ES256']`. */
  algorithms?: string[];
  /** Clock skew tolerated on exp/nbf/iat, seconds. Default 5. */
  clockToleranceSec?: number;
  /** Verified tokens kept in memory, entries. Default 10000; 0 disables the cache. */
  cacheSize?: number;
  /** Longest token accepted (checked before parsing), bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Minimum time between JWKS fetches caused by unknown kids, ms (key stores built here). Default 5000. */
  jwksRefreshCooldownMs?: number;
  /** Called for every rejected call, e.g. to count rejections by reason. Must not throw. */
  onRejected?: (info: RejectionInfo) => void;
  /** Receives unexpected errors (pino-compatible). Default: console. */
  logger?: StatusLogger;
  /**
   * Interceptor metrics from `authmeshMetrics(registry)`: verifications (warm/cold, outcome), cold
   * verify latency, cache hit ratio, rejections by reason (besides any `onRejected` of yours).
   */
  metrics?: AuthmeshMetrics;
}

/** The validated options. */
export interface ParsedOptions {
  issuer: string;
  audiences: readonly string[] | undefined;
  jwks: JwksOption;
  feed: RevocationFeed | undefined;
  packageDefinition: PackageDefinition | undefined;
  protos: readonly ProtoFiles[] | undefined;
  rules: Record<string, MethodRule> | undefined;
  algorithms: readonly string[];
  clockToleranceSec: number;
  cacheSize: number;
  maxTokenBytes: number;
  jwksRefreshCooldownMs: number;
  onRejected: ((info: RejectionInfo) => void) | undefined;
  logger: StatusLogger | undefined;
  metrics: AuthmeshMetrics | undefined;
}

function integer(value: unknown, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new TypeError(`${name}: must be an integer >= ${min}`);
  return value;
}

function parseAudience(o: ServerAuthOptions): readonly string[] | undefined {
  if (o.acceptAnyAudience !== undefined && typeof o.acceptAnyAudience !== 'boolean')
    throw new TypeError('acceptAnyAudience: must be a boolean');
  if (o.acceptAnyAudience === true) {
    if (o.audience !== undefined)
      throw new TypeError('audience: must not be set together with acceptAnyAudience');
    return undefined;
  }
  const list = typeof o.audience === 'string' ? [o.audience] : o.audience;
  if (!Array.isArray(list) || list.length === 0 || !list.every((a) => typeof a === 'string' && a !== '')) {
    throw new TypeError(
      'audience: required (a non-empty string or array of strings) unless acceptAnyAudience is true',
    );
  }
  return Object.freeze([...list]);
}

function parseJwks(jwks: unknown): JwksOption {
  if (typeof jwks !== 'object' || jwks === null)
    throw new TypeError('jwks: must be { authTarget } | { jwksUri } | { source } | { keyStore }');
  const j = jwks as Record<string, unknown>;
  const given = ['authTarget', 'jwksUri', 'source', 'keyStore'].filter((k) => j[k] !== undefined);
  if (given.length !== 1)
    throw new TypeError('jwks: exactly one of authTarget, jwksUri, source, keyStore is required');
  if ('authTarget' in j && (typeof j.authTarget !== 'string' || j.authTarget === ''))
    throw new TypeError('jwks.authTarget: must be a host:port string');
  if ('jwksUri' in j && typeof j.jwksUri !== 'string')
    throw new TypeError('jwks.jwksUri: must be a URL string');
  if ('source' in j && typeof j.source !== 'function')
    throw new TypeError('jwks.source: must be a function returning a JWKS');
  if ('keyStore' in j) {
    const ks = j.keyStore as Partial<KeyStore> | null;
    if (
      typeof ks !== 'object' ||
      ks === null ||
      typeof ks.get !== 'function' ||
      typeof ks.resolve !== 'function' ||
      typeof ks.ready !== 'function'
    ) {
      throw new TypeError('jwks.keyStore: must implement KeyStore');
    }
  }
  return jwks as JwksOption;
}

function parseRevocations(rev: unknown): RevocationFeed | undefined {
  if (typeof rev !== 'object' || rev === null)
    throw new TypeError('revocations: must be { feed } or { allowInsecureNoRevocations: true }');
  const r = rev as { feed?: Partial<RevocationFeed>; allowInsecureNoRevocations?: unknown };
  if (r.feed !== undefined) {
    const f = r.feed;
    if (
      typeof f !== 'object' ||
      f === null ||
      typeof f.isRevoked !== 'function' ||
      typeof f.isStale !== 'function' ||
      typeof f.isReady !== 'function' ||
      typeof f.ready !== 'function' ||
      typeof f.onRevoked !== 'function'
    ) {
      throw new TypeError('revocations.feed: must implement RevocationFeed');
    }
    if (f.stalePolicy !== 'reject' && f.stalePolicy !== 'allow')
      throw new TypeError('revocations.feed.stalePolicy: must be "reject" or "allow"');
    return f as RevocationFeed;
  }
  if (r.allowInsecureNoRevocations !== true)
    throw new TypeError('revocations: a feed is required (or allowInsecureNoRevocations: true)');
  return undefined;
}

function parseProtos(protos: unknown): readonly ProtoFiles[] | undefined {
  if (protos === undefined) return undefined;
  const list: unknown[] = Array.isArray(protos) ? protos : [protos];
  if (list.length === 0 || !list.every(isProtoFiles))
    throw new TypeError('protos: must be { files, includeDirs } or a list of them');
  return Object.freeze(list as ProtoFiles[]);
}

/** Validates `createServerAuth` options once, applying the documented defaults. */
export function parseServerAuthOptions(options: ServerAuthOptions): ParsedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options: must be an object');
  const o = options;
  if (typeof o.issuer !== 'string' || o.issuer === '')
    throw new TypeError('issuer: must be a non-empty string');
  const clockToleranceSec = o.clockToleranceSec ?? 5;
  if (
    typeof clockToleranceSec !== 'number' ||
    !Number.isFinite(clockToleranceSec) ||
    clockToleranceSec < 0 ||
    clockToleranceSec > 300
  ) {
    throw new TypeError('clockToleranceSec: must be a number of seconds in [0, 300]');
  }
  if (o.onRejected !== undefined && typeof o.onRejected !== 'function')
    throw new TypeError('onRejected: must be a function');
  if (o.logger !== undefined && (typeof o.logger !== 'object' || typeof o.logger?.error !== 'function'))
    throw new TypeError('logger: must have an error(obj, msg) method');
  if (o.metrics !== undefined && typeof o.metrics?.instrument !== 'function')
    throw new TypeError('metrics: must come from authmeshMetrics(registry)');
  const userRejected = o.onRejected;
  const metricsRejected = o.metrics?.onRejected;
  return {
    issuer: o.issuer,
    audiences: parseAudience(o),
    jwks: parseJwks(o.jwks),
    feed: parseRevocations(o.revocations),
    packageDefinition: o.packageDefinition,
    protos: parseProtos(o.protos),
    rules: o.rules,
    algorithms: parseAlgorithms(o.algorithms, 'algorithms'),
    clockToleranceSec,
    cacheSize: integer(o.cacheSize, 'cacheSize', 10_000, 0),
    maxTokenBytes: integer(o.maxTokenBytes, 'maxTokenBytes', 8192, 64),
    jwksRefreshCooldownMs: integer(o.jwksRefreshCooldownMs, 'jwksRefreshCooldownMs', 5000, 0),
    onRejected:
      metricsRejected && userRejected
        ? (info) => {
            metricsRejected(info);
            userRejected(info);
          }
        : (metricsRejected ?? userRejected),
    logger: o.logger,
    metrics: o.metrics,
  };
}
