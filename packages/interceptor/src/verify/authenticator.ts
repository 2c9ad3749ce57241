import type { Principal } from '../claims.js';
import { AuthError } from '../errors.js';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import type { RevocationCheck } from '../revocation/revocation.types.js';
import { cacheKeyOf, TokenCache, type CacheEntry } from './token-cache.js';
import type { VerifiedToken, Verifier } from './verifier.js';

/** Verification with the verified-token cache in front and the revocation check behind. */
export interface Authenticator {
  /**
   * Warm path, synchronous: the principal of a cached token, re-checking revocation and key presence
   * only if `revocations.epoch` or `keys.epoch` moved since it was stored. Undefined on a miss;
   * throws an AuthError when the cached token is now revoked or its key is gone.
   */
  cached(token: string): Principal | undefined;
  /** Full path: cache, then signature + claims + revocation; stores the result. */
  authenticate(token: string, anyAudience?: boolean): Promise<Principal>;
  /** True while the principal's token is not revoked and its key is still in the key set. */
  stillValid(principal: Principal): boolean;
  /** Drops cache entries that the current revocation state or key set no longer allows. */
  evictInvalid(): void;
  readonly cache: TokenCache;
}

/** Wires a verifier, a key store and a revocation check around a bounded TokenCache. */
export function createAuthenticator(
  verify: Verifier,
  keys: KeyStore,
  revocations: RevocationCheck,
  cacheSize: number,
): Authenticator {
  const cache = new TokenCache(cacheSize);

  function keyPresent(kid: string, key: VerificationKey): boolean {
    return keys.get(kid) === key;
  }

  /** Re-checks an entry whose epochs moved; updates them so the next hit is cheap again. */
  function recheck(token: string, entry: CacheEntry): Principal | undefined {
    const p = entry.principal;
    if (!keyPresent(p.kid, entry.key)) {
      cache.delete(token);
      throw new AuthError('ERR_KEY_UNKNOWN', 'signing key no longer trusted');
    }
    if (revocations.isRevoked(p)) {
      cache.delete(token);
      // A replayed entry may still be unverified: let the async path ask for the definitive verdict.
      if (revocations.confirm !== undefined) return undefined;
      throw new AuthError('ERR_TOKEN_REVOKED', 'token revoked');
    }
    entry.revocationEpoch = revocations.epoch;
    entry.keyEpoch = keys.epoch;
    return p;
  }

  function cached(token: string): Principal | undefined {
    const entry = cache.get(token, Date.now());
    if (entry === undefined) return undefined;
    // The warm path: a Map lookup and two integer compares.
    if (entry.revocationEpoch === revocations.epoch && entry.keyEpoch === keys.epoch) return entry.principal;
    return recheck(token, entry);
  }

  /**
   * Verifications in flight, so N concurrent calls with one fresh token cost one signature check. Keyed
   * like the cache (an integer: a 400-character token string would be hashed on every get, set and
   * delete); a token sharing its key with another in flight is verified on its own.
   */
  const inflight = new Map<number, { readonly token: string; promise?: Promise<Principal> }>();

  /** A verification done synchronously that still needs an await (a replayed entry to confirm). */
  interface Checked {
    readonly verified: VerifiedToken;
    readonly revocationEpoch: number;
    readonly keyEpoch: number;
  }

  // Not async: on a hit, a shared verification or a synchronous one, that would add a promise and
  // microtasks per call.
  function authenticate(token: string, anyAudience = false): Promise<Principal> {
    let hit: Principal | undefined;
    try {
      hit = cached(token);
    } catch (err) {
      return Promise.reject(err);
    }
    if (hit !== undefined) return Promise.resolve(hit);
    const key = cacheKeyOf(token);
    const pending = anyAudience ? undefined : inflight.get(key);
    if (pending !== undefined && pending.token === token) return pending.promise!;
    // The common cold path: the key is held, so every check runs now, without an await.
    let checked: Principal | Checked | undefined;
    try {
      checked = verifyNow(token, anyAudience);
    } catch (err) {
      return Promise.reject(err);
    }
    if (checked !== undefined && !('verified' in checked)) return Promise.resolve(checked);
    if (anyAudience || pending !== undefined) return verifyFresh(token, anyAudience, undefined, checked);
    const slot: { readonly token: string; promise?: Promise<Principal> } = { token };
    inflight.set(key, slot);
    slot.promise = verifyFresh(
      token,
      false,
      () => {
        if (inflight.get(key) === slot) inflight.delete(key);
      },
      checked,
    );
    return slot.promise;
  }

  /**
   * {@link verifyFresh} without an await: the principal, or undefined when the key must be resolved
   * first, or what was verified when a replayed revocation entry must be confirmed; throws AuthErrors.
   */
  function verifyNow(token: string, anyAudience: boolean): Principal | Checked | undefined {
    if (verify.now === undefined) return undefined;
    const revocationEpoch = revocations.epoch;
    const keyEpoch = keys.epoch;
    const verified = verify.now(token, { anyAudience });
    if (verified === undefined) return undefined;
    if (revocations.isRevoked(verified.principal)) {
      if (revocations.confirm !== undefined) return { verified, revocationEpoch, keyEpoch };
      throw new AuthError('ERR_TOKEN_REVOKED', 'token revoked');
    }
    store(token, verified, anyAudience, revocationEpoch, keyEpoch);
    return verified.principal;
  }

  async function verifyFresh(
    token: string,
    anyAudience: boolean,
    settled?: () => void,
    checked?: Checked,
  ): Promise<Principal> {
    try {
      // Read the epochs before verifying: a revocation landing during the await re-checks next time.
      const revocationEpoch = checked?.revocationEpoch ?? revocations.epoch;
      const keyEpoch = checked?.keyEpoch ?? keys.epoch;
      const verified = checked?.verified ?? (await verify(token, { anyAudience }));
      // isRevoked fails closed on replayed events not yet verified; confirm() settles them (a forged one
      // is dropped), so a forged event can neither reject nor admit a token.
      if (
        revocations.isRevoked(verified.principal) &&
        ((await revocations.confirm?.(verified.principal)) ?? true)
      ) {
        throw new AuthError('ERR_TOKEN_REVOKED', 'token revoked');
      }
      store(token, verified, anyAudience, revocationEpoch, keyEpoch);
      return verified.principal;
    } finally {
      // The caller registered the slot before calling, so this always finds it (even on a synchronous throw).
      settled?.();
    }
  }

  function store(
    token: string,
    { principal, key }: VerifiedToken,
    anyAudience: boolean,
    revocationEpoch: number,
    keyEpoch: number,
  ): void {
    // Only audience-checked verdicts are cached: an any-audience one must not serve a normal call.
    if (anyAudience) return;
    cache.set(
      token,
      { principal, key, expiresAtMs: principal.exp * 1000, revocationEpoch, keyEpoch },
      Date.now(),
    );
  }

  return {
    cached,
    authenticate,
    stillValid(principal) {
      return keys.get(principal.kid) !== undefined && !revocations.isRevoked(principal);
    },
    evictInvalid() {
      cache.evictWhere((e) => !keyPresent(e.principal.kid, e.key) || revocations.isRevoked(e.principal));
    },
    cache,
  };
}
