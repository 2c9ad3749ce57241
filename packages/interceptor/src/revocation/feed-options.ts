import type { NatsConnection } from 'nats';
import type { KeyStore } from '../jwks/key-store.types.js';
import {
  MAX_ANNOUNCE_PERIOD_MS,
  MAX_ANNOUNCEMENT_FIELD,
  MIN_ANNOUNCE_PERIOD_MS,
} from '../mesh/announcement.js';
import type { MeshKeySource } from '../mesh/mesh-key.js';
import { natsServersWithCredentials, type NatsServersWithCredentials } from './nats-url.js';

/** Options of {@link createRevocationFeed}. */
export interface RevocationFeedOptions {
  /**
   * NATS server URL(s) (`NATS_URL`); used when no `connection` is given. Credentials may be written in
   * them (`nats://user:password@host:4222`, or `nats://token@host:4222`).
   */
  servers?: string | string[];
  /** An existing connection to share; the feed does not close it. */
  connection?: NatsConnection;
  /** The issuer's keys: events must be signed by one of them. */
  keys: KeyStore;
  /** The `iss` events must carry. */
  issuer: string;
  /** How long (ms) the feed may go without being known current before it counts as stale (default 30000). */
  maxStalenessMs?: number;
  /** 'reject' (default): stale → UNAVAILABLE; 'allow': stale → calls pass, health reports degraded. */
  stalePolicy?: 'reject' | 'allow';
  /** Connection name shown by the NATS server (default `authmesh-revocations`). */
  name?: string;
  /** How often (ms) the stream is checked to know the feed is current (default 1000, or maxStalenessMs / 3 if smaller). */
  checkIntervalMs?: number;
  /** Stream name (default `AUTHMESH_REVOCATIONS`; tests only). */
  stream?: string;
  /**
   * Also subscribe to the core subjects `authmesh.revoked.>` (default true): live events apply as soon as
   * they are published, even while the JetStream consumer is being re-created. The stream remains the
   * source of truth either way; false leaves the stream as the only path.
   */
  coreFastPath?: boolean;
  /**
   * Seconds an entry is kept past its `exp` (default 60). A verifier's clock tolerance must not exceed
   * it (a token accepted after its exp must still meet its revocation): `createServerAuth` caps its
   * `clockToleranceSec` to this value.
   */
  graceSec?: number;
  /**
   * Replayed entries verified per second in the background once ready (default 2000; 0: only when a
   * token matches one). Bounds the CPU and NATS requests the verification takes.
   */
  pendingVerifyPerSec?: number;
  /**
   * The audience the service accepts (`AUTHMESH_AUDIENCE`), announced on `authmesh.mesh.>` so the auth
   * service can report which services applied a revocation (default '': unnamed).
   */
  audience?: string;
  /** Period of the mesh announcements, ms (default 2000, at most 2000; tests use less). */
  announceIntervalMs?: number;
  /**
   * Makes the mesh announcements attributable: where the instance gets its announcement key, usually
   * `meshKeyFromAuthService({ authTarget, clientSource })` with the service's client credentials.
   * Without it (or while it fails) announcements are flagged unauthenticated; serving never waits for it.
   */
  meshKey?: MeshKeySource;
  /**
   * For the issuer's own process only (the auth service's guard): true when `jws` is exactly, byte for
   * byte, an event this process signed and published itself, which then needs no signature check
   * (it is authentic by construction: nothing secret is compared, only the whole string). Anything
   * else, a forgery reusing a real event's signature segment included, is verified as usual.
   */
  trustedEvent?: (jws: string) => boolean;
}

/** Options after defaults and validation. */
export interface ParsedFeedOptions {
  /** The servers, with credentials taken out of their URLs into connect options. */
  servers: NatsServersWithCredentials | undefined;
  connection: NatsConnection | undefined;
  keys: KeyStore;
  issuer: string;
  maxStalenessMs: number;
  stalePolicy: 'reject' | 'allow';
  name: string;
  checkIntervalMs: number;
  stream: string;
  coreFastPath: boolean;
  graceSec: number;
  pendingVerifyPerSec: number;
  audience: string;
  announceIntervalMs: number;
  meshKey: MeshKeySource | undefined;
  trustedEvent: ((jws: string) => boolean) | undefined;
}

/** Validates once, at construction: a bad option is a TypeError naming it. */
export function parseFeedOptions(o: RevocationFeedOptions): ParsedFeedOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('options must be an object');
  let servers: string[] | undefined;
  if (o.servers !== undefined) {
    servers =
      typeof o.servers === 'string'
        ? o.servers
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : o.servers;
    if (
      !Array.isArray(servers) ||
      servers.length === 0 ||
      !servers.every((s) => typeof s === 'string' && s !== '')
    ) {
      throw new TypeError('servers must be a non-empty URL string or array of URL strings');
    }
  }
  if (
    o.connection !== undefined &&
    (typeof o.connection !== 'object' || typeof o.connection.jetstream !== 'function')
  ) {
    throw new TypeError('connection must be a NatsConnection');
  }
  if (servers === undefined && o.connection === undefined)
    throw new TypeError('servers or connection is required');
  const k = o.keys as Partial<KeyStore> | undefined;
  if (
    !k ||
    typeof k.resolve !== 'function' ||
    typeof k.refresh !== 'function' ||
    typeof k.remove !== 'function'
  ) {
    throw new TypeError('keys must be a KeyStore');
  }
  if (typeof o.issuer !== 'string' || o.issuer === '')
    throw new TypeError('issuer must be a non-empty string');
  const maxStalenessMs = o.maxStalenessMs ?? 30_000;
  if (!Number.isFinite(maxStalenessMs) || maxStalenessMs <= 0)
    throw new TypeError('maxStalenessMs must be a positive number');
  const stalePolicy = o.stalePolicy ?? 'reject';
  if (stalePolicy !== 'reject' && stalePolicy !== 'allow')
    throw new TypeError("stalePolicy must be 'reject' or 'allow'");
  const name = o.name ?? 'authmesh-revocations';
  if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
  // Default: every second, or often enough that a small staleness bound can still be met.
  const checkIntervalMs = o.checkIntervalMs ?? Math.max(50, Math.min(1000, Math.floor(maxStalenessMs / 3)));
  if (!Number.isFinite(checkIntervalMs) || checkIntervalMs < 50)
    throw new TypeError('checkIntervalMs must be a number >= 50');
  if (checkIntervalMs * 2 > maxStalenessMs)
    throw new TypeError('checkIntervalMs must be at most half of maxStalenessMs');
  const stream = o.stream ?? 'AUTHMESH_REVOCATIONS';
  if (typeof stream !== 'string' || !/^[A-Za-z0-9_-]+$/.test(stream))
    throw new TypeError('stream must be a valid stream name');
  const coreFastPath = o.coreFastPath ?? true;
  if (typeof coreFastPath !== 'boolean') throw new TypeError('coreFastPath must be a boolean');
  const graceSec = o.graceSec ?? 60;
  if (!Number.isFinite(graceSec) || graceSec < 0) throw new TypeError('graceSec must be a number >= 0');
  const pendingVerifyPerSec = o.pendingVerifyPerSec ?? 2000;
  if (!Number.isFinite(pendingVerifyPerSec) || pendingVerifyPerSec < 0)
    throw new TypeError('pendingVerifyPerSec must be a number >= 0');
  const audience = o.audience ?? '';
  if (typeof audience !== 'string' || audience.length > MAX_ANNOUNCEMENT_FIELD)
    throw new TypeError(`audience must be a string of at most ${MAX_ANNOUNCEMENT_FIELD} characters`);
  const announceIntervalMs = o.announceIntervalMs ?? MAX_ANNOUNCE_PERIOD_MS;
  if (
    !Number.isInteger(announceIntervalMs) ||
    announceIntervalMs < MIN_ANNOUNCE_PERIOD_MS ||
    announceIntervalMs > MAX_ANNOUNCE_PERIOD_MS
  )
    throw new TypeError(
      `announceIntervalMs must be an integer from ${MIN_ANNOUNCE_PERIOD_MS} to ${MAX_ANNOUNCE_PERIOD_MS}`,
    );
  if (o.meshKey !== undefined && typeof o.meshKey !== 'function')
    throw new TypeError('meshKey must be a function (instanceId) => Promise<{ clientId, key }>');
  if (o.trustedEvent !== undefined && typeof o.trustedEvent !== 'function')
    throw new TypeError('trustedEvent must be a function (jws) => boolean');
  return {
    trustedEvent: o.trustedEvent,
    audience,
    announceIntervalMs,
    meshKey: o.meshKey,
    graceSec,
    pendingVerifyPerSec,
    coreFastPath,
    servers: servers && natsServersWithCredentials(servers),
    connection: o.connection,
    keys: o.keys,
    issuer: o.issuer,
    maxStalenessMs,
    stalePolicy,
    name,
    checkIntervalMs,
    stream,
  };
}
