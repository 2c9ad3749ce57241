import { KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import {
  EVENT_KEYS_MEMBER,
  type JwksDocument,
  type JwksSource,
  type KeyStore,
  type VerificationKey,
} from './key-store.types.js';

/** Options of `createKeyStore`. */
export interface KeyStoreOptions {
  /** Signature algorithms whose keys are accepted; others in the JWKS are ignored. Default `['EdDSA', 'ES256']`. */
  algorithms?: readonly string[];
  /** Minimum time between two JWKS fetches caused by unknown kids, ms. Default 5000. */
  refreshCooldownMs?: number;
  /** First retry delay while no JWKS was ever loaded, ms (doubles up to `retryMaxMs`). Default 200. */
  retryInitialMs?: number;
  /** Longest retry delay while no JWKS was ever loaded, ms. Default 5000. */
  retryMaxMs?: number;
  /**
   * Longest time a call with an unknown kid waits for the JWKS fetch it triggered, ms. The fetch goes on
   * in the background; the call gets "unknown key" at once. Default 1000.
   */
  resolveWaitMs?: number;
  /** Receives fetch failures (pino-compatible). Default: console.warn. */
  logger?: { warn(obj: object, msg: string): void };
}

/** The key shape each supported algorithm requires (RFC 8725 §3.1: the key decides the algorithm). */
const KEY_SHAPES: Record<string, { kty: string; crv?: string }> = {
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  RS256: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
};

/** The algorithm names `createKeyStore` and the verifier know. */
export const SUPPORTED_ALGORITHMS: readonly string[] = Object.keys(KEY_SHAPES);

/** Validates an `algorithms` option once; `name` is the option's name in the TypeError. */
export function parseAlgorithms(value: unknown, name: string): readonly string[] {
  if (value === undefined) return ['EdDSA', 'ES256'];
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${name}: must be a non-empty array of algorithm names`);
  for (const alg of value) {
    if (typeof alg !== 'string' || !(alg in KEY_SHAPES)) {
      throw new TypeError(
        `${name}: unsupported algorithm ${JSON.stringify(alg)} (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`,
      );
    }
  }
  return Object.freeze([...value]);
}

function nonNegative(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new TypeError(`${name}: must be a finite number >= 0`);
  return value;
}

interface StoredKey extends VerificationKey {
  /** The public members the key was imported from, to tell a changed key from the same one. */
  readonly fingerprint: string;
}

/** The algorithm a JWK may be used with, or undefined when it does not fit the allowlist. */
function keyAlgorithm(jwk: JWK, allowed: readonly string[]): string | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
    return undefined;
  let alg = jwk.alg;
  if (alg === undefined) {
    // RFC 7517 §4.4: "alg" is optional in a JWK; infer it only where the curve leaves one choice.
    if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') alg = 'EdDSA';
    else if (jwk.kty === 'EC' && jwk.crv === 'P-256') alg = 'ES256';
    else if (jwk.kty === 'EC' && jwk.crv === 'P-384') alg = 'ES384';
    else return undefined;
  }
  const shape = KEY_SHAPES[alg];
  if (!allowed.includes(alg) || shape === undefined) return undefined;
  if (jwk.kty !== shape.kty || (shape.crv !== undefined && jwk.crv !== shape.crv)) return undefined;
  return alg;
}

/** Only the public members: a JWKS that leaks a private part must not make us hold it. */
function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  const out: JWK = { kty };
  if (crv !== undefined) out.crv = crv;
  if (x !== undefined) out.x = x;
  if (y !== undefined) out.y = y;
  if (n !== undefined) out.n = n;
  if (e !== undefined) out.e = e;
  return out;
}

/**
 * Creates the KeyStore over a JWKS source: keys imported once into node KeyObjects, refreshed when an
 * unknown kid shows up (at most once per `refreshCooldownMs`, so random kids cannot make us hammer the
 * auth service), the last good set kept when the source fails. Loading starts at once.
 *
 * @example const keys = createKeyStore(jwksFromAuthService('127.0.0.1:50051'));
 */
export function createKeyStore(source: JwksSource, options: KeyStoreOptions = {}): KeyStore {
  if (typeof source !== 'function') throw new TypeError('source: must be a function returning a JWKS');
  const algorithms = parseAlgorithms(options.algorithms, 'algorithms');
  const cooldownMs = nonNegative(options.refreshCooldownMs, 'refreshCooldownMs', 5000);
  const retryInitialMs = Math.max(1, nonNegative(options.retryInitialMs, 'retryInitialMs', 200));
  const retryMaxMs = Math.max(retryInitialMs, nonNegative(options.retryMaxMs, 'retryMaxMs', 5000));
  const resolveWaitMs = nonNegative(options.resolveWaitMs, 'resolveWaitMs', 1000);
  const logger = options.logger ?? {
    warn: (obj: object, msg: string) => console.warn(`authmesh: ${msg}`, obj),
  };

  let keys = new Map<string, StoredKey>();
  /** kids revoked through remove(): never imported again, even if the JWKS still lists them. */
  const removed = new Set<string>();
  /** Keys that verify revocation events only: withdrawn keys the source lists, and keys we removed. */
  let withdrawnKeys = new Map<string, StoredKey>();
  const removedKeys = new Map<string, StoredKey>();
  let epoch = 0;
  let loadedAt: number | undefined;
  let lastFetchAt = -Infinity;
  let inflight: Promise<boolean> | undefined;
  let closed = false;
  let loaded = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));

  /** Imports `list` (skipping kids in `skip` and keys we cannot use); `known` keeps identical keys' objects. */
  async function importKeys(
    list: unknown,
    known: Map<string, StoredKey>,
    skip: { has(kid: string): boolean },
  ): Promise<Map<string, StoredKey>> {
    const next = new Map<string, StoredKey>();
    if (!Array.isArray(list)) return next;
    for (const jwk of list as JWK[]) {
      if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string' || jwk.kid === '') continue;
      if (skip.has(jwk.kid) || next.has(jwk.kid)) continue;
      const alg = keyAlgorithm(jwk, algorithms);
      if (alg === undefined) continue;
      const pub = publicPart(jwk);
      const fingerprint = JSON.stringify([alg, pub.kty, pub.crv, pub.x, pub.y, pub.n, pub.e]);
      const current = known.get(jwk.kid);
      if (current !== undefined && current.fingerprint === fingerprint) {
        next.set(jwk.kid, current); // same key: keep the same object, caches compare by identity
        continue;
      }
      try {
        const imported = await importJWK(pub, alg);
        if (!(imported instanceof Uint8Array)) {
          const key = imported instanceof KeyObject ? imported : KeyObject.from(imported);
          if (key.type === 'public')
            next.set(jwk.kid, Object.freeze({ kid: jwk.kid, alg, key, fingerprint }));
        }
      } catch {
        // A key jose refuses (bad point, short RSA modulus) is skipped, the rest still counts.
      }
    }
    return next;
  }

  async function importSet(
    jwks: JwksDocument,
  ): Promise<{ tokenKeys: Map<string, StoredKey>; eventOnly: Map<string, StoredKey> }> {
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys))
      throw new Error('JWKS has no "keys" array');
    const tokenKeys = await importKeys(jwks.keys, keys, removed);
    if (tokenKeys.size === 0) throw new Error('JWKS has no usable key');
    // Withdrawn keys, for revocation events only: never trusted for a token.
    const eventOnly = await importKeys(jwks[EVENT_KEYS_MEMBER], withdrawnKeys, tokenKeys);
    return { tokenKeys, eventOnly };
  }

  function swap(next: Map<string, StoredKey>): void {
    let changed = next.size !== keys.size;
    if (!changed)
      for (const [kid, key] of next)
        if (keys.get(kid) !== key) {
          changed = true;
          break;
        }
    if (changed) {
      keys = next;
      epoch++;
    }
  }

  /** One fetch at a time; resolves true when a set was loaded. Never rejects. */
  function load(): Promise<boolean> {
    if (inflight) return inflight;
    lastFetchAt = Date.now();
    const startedAt = performance.now();
    inflight = (async () => {
      try {
        const next = await importSet(await source());
        if (closed) return false;
        swap(next.tokenKeys);
        withdrawnKeys = next.eventOnly;
        loadedAt = startedAt;
        if (!loaded) {
          loaded = true;
          resolveReady();
        }
        return true;
      } catch (err) {
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'JWKS fetch failed; keeping the last good key set',
        );
        return false;
      } finally {
        inflight = undefined;
      }
    })();
    return inflight;
  }

  async function firstLoad(delay: number): Promise<void> {
    if (closed || (await load()) || loaded || closed) return;
    retryTimer = setTimeout(() => void firstLoad(Math.min(delay * 2, retryMaxMs)), delay);
    retryTimer.unref();
  }
  void firstLoad(retryInitialMs);

  async function resolve(kid: string): Promise<VerificationKey | undefined> {
    const known = keys.get(kid);
    if (known !== undefined || removed.has(kid) || closed) return known;
    // An unreachable (blackholed) auth service must not hold calls until their deadline: wait for the
    // fetch at most resolveWaitMs, then answer "unknown key" (UNAUTHENTICATED) while it goes on.
    const fetch = inflight ?? (Date.now() - lastFetchAt >= cooldownMs ? load() : undefined);
    if (fetch) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([fetch, new Promise((r) => (timer = setTimeout(r, resolveWaitMs)))]);
      clearTimeout(timer);
    }
    return keys.get(kid);
  }

  function eventKey(kid: string): VerificationKey | undefined {
    return keys.get(kid) ?? withdrawnKeys.get(kid) ?? removedKeys.get(kid);
  }

  return {
    get(kid) {
      return keys.get(kid);
    },
    resolve,
    async refresh() {
      if (closed) return;
      await load();
    },
    eventKey,
    async resolveEventKey(kid) {
      return eventKey(kid) ?? (await resolve(kid)) ?? eventKey(kid);
    },
    get loadedAt() {
      return loadedAt;
    },
    remove(kid) {
      removed.add(kid);
      const held = keys.get(kid);
      // Revocation events it signed stay verifiable (a forged event can only reject, never admit).
      if (held !== undefined) removedKeys.set(kid, held);
      if (keys.has(kid)) {
        const next = new Map(keys);
        next.delete(kid);
        keys = next;
        epoch++;
      }
    },
    get epoch() {
      return epoch;
    },
    ready() {
      return readyPromise;
    },
    close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      (source as { close?: () => void }).close?.();
    },
  };
}
