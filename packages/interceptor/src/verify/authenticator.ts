import type { Principal } from '../claims.js';
import { AuthError } from '../errors.js';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import type { RevocationCheck } from '../revocation/revocation.types.js';
import { cacheKeyOf, TokenCache, type CacheEntry } from './token-cache.js';
import type { Verifier } from './verifier.js';

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

  // Not async: on a hit or a shared verification that would add a promise and microtasks per call.
  function authenticate(token: string, anyAudience = false): Promise<Principal> {
    let hit: Principal | undefined;
    try {
      hit = cached(token);
    } catch (err) {
      return Promise.reject(err);
    }
    if (hit !== undefined) return Promise.resolve(hit);
    if (anyAudience) return verifyFresh(token, true);
    const key = cacheKeyOf(token);
    const pending = inflight.get(key);
    if (pending !== undefined) {
      if (pending.token === token) return pending.promise!;
      return verifyFresh(token, false);
    }
    const slot: { readonly token: string; promise?: Promise<Principal> } = { token };
    inflight.set(key, slot);
    slot.promise = verifyFresh(token, false, () => {
      if (inflight.get(key) === slot) inflight.delete(key);
    });
    return slot.promise;
  }

  async function verifyFresh(token: string, anyAudience: boolean, settled?: () => void): Promise<Principal> {
    try {
      // Read the epochs before verifying: a revocation landing during the await re-checks next time.
      const revocationEpoch = revocations.epoch;
      const keyEpoch = keys.epoch;
      const { principal, key } = await verify(token, { anyAudience });
      // isRevoked fails closed on replayed events not yet verified; confirm() settles them (a forged one
      // is dropped), so a forged event can neither reject nor admit a token.
      if (revocations.isRevoked(principal) && ((await revocations.confirm?.(principal)) ?? true)) {
        throw new AuthError('ERR_TOKEN_REVOKED', 'token revoked');
      }
      // Only audience-checked verdicts are cached: an any-audience one must not serve a normal call.
      if (!anyAudience) {
        cache.set(
          token,
          { principal, key, expiresAtMs: principal.exp * 1000, revocationEpoch, keyEpoch },
          Date.now(),
        );
      }
      return principal;
    } finally {
      // The caller registered the slot before calling, so this always finds it (even on a synchronous throw).
      settled?.();
    }
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
