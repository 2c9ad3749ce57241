import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../claims.js';
import type { VerificationKey } from '../jwks/key-store.types.js';
import { createKeyStore } from '../jwks/key-store.js';
import {
  AUDIENCE,
  FakeFeed,
  ISSUER,
  jwksSource,
  makeKey,
  signToken,
  type TestKey,
} from '../server/fixtures.test.js';
import { createAuthenticator } from './authenticator.js';
import {
  CACHE_KEY_CHARS,
  SWEEP_INTERVAL_MS,
  SWEEP_STEP,
  TokenCache,
  type CacheEntry,
} from './token-cache.js';
import { createVerifier, type Verifier } from './verifier.js';

const key = { kid: 'k' } as VerificationKey;
const entry = (exp: number): CacheEntry => ({
  principal: { exp } as Principal,
  key,
  expiresAtMs: exp * 1000,
  revocationEpoch: 0,
  keyEpoch: 0,
});

describe('TokenCache', () => {
  it('is bounded and evicts the oldest entry first', () => {
    const c = new TokenCache(3);
    for (const t of ['a', 'b', 'c', 'd']) c.set(t, entry(100), 0);
    expect(c.size).toBe(3);
    expect(c.get('a', 0)).toBeUndefined();
    expect(c.get('d', 0)).toBeDefined();
  });

  it('never returns an entry at or after its exp, and never stores an expired one', () => {
    const c = new TokenCache(10);
    c.set('a', entry(100), 0);
    expect(c.get('a', 99_999)).toBeDefined();
    expect(c.get('a', 100_000)).toBeUndefined();
    expect(c.size).toBe(0);
    c.set('b', entry(100), 100_000);
    expect(c.size).toBe(0);
  });

  it('two tokens that share the key slice never share a verdict (whole-token equality)', () => {
    const tail = 'S'.repeat(CACHE_KEY_CHARS);
    const a = `header.payload-a.${tail}`;
    const b = `header.payload-b.${tail}`;
    const c = new TokenCache(10);
    const ea = entry(100);
    c.set(a, ea, 0);
    expect(c.get(a, 0)).toBe(ea);
    expect(c.get(b, 0)).toBeUndefined();
    expect(c.get(`x${a}`, 0)).toBeUndefined(); // longer, same tail
    c.delete(b); // deleting a colliding token leaves the stored one alone
    expect(c.get(a, 0)).toBe(ea);
    const eb = entry(100);
    c.set(b, eb, 0); // the newer token takes the slot: a costs a re-verification, nothing more
    expect(c.get(b, 0)).toBe(eb);
    expect(c.get(a, 0)).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('two tokens whose different tails hash to one key never share a verdict', () => {
    // Found by search: these two 8-character tails have the same 30-bit key.
    const a = 'header.payload.S3cCAAAA';
    const b = 'header.payload.wBADAAAA';
    expect(CACHE_KEY_CHARS).toBe(8);
    const c = new TokenCache(10);
    const ea = entry(100);
    c.set(a, ea, 0);
    expect(c.get(a, 0)).toBe(ea);
    expect(c.get(b, 0)).toBeUndefined();
    c.set(b, entry(100), 0); // one slot: the newer token takes it
    expect(c.get(a, 0)).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('sweeps expired entries by itself, not only at the bound (frozen clock)', () => {
    const c = new TokenCache(1000);
    for (let i = 0; i < 100; i++) c.set(`short-lived-token-${i}`.padStart(40, '.'), entry(60), 0);
    c.set('long-lived-token'.padStart(40, '.'), entry(3600), 0);
    expect(c.size).toBe(101);
    // Expired but within the sweep interval of the last sweep: still held (lookups refuse them).
    expect(c.get('long-lived-token'.padStart(40, '.'), 60_000 - 1)).toBeDefined();
    // Past the interval, an unrelated lookup sweeps every expired entry.
    expect(c.get('no-such-token', 60_000 + SWEEP_INTERVAL_MS)).toBeUndefined();
    expect(c.size).toBe(1);
    expect(c.get('long-lived-token'.padStart(40, '.'), 60_000 + SWEEP_INTERVAL_MS)).toBeDefined();
    expect(c.sweep(3_600_000)).toBe(1);
    expect(c.size).toBe(0);
  });

  it('spreads a sweep over calls: no lookup scans the whole cache (frozen clock)', () => {
    const c = new TokenCache(10_000);
    const n = SWEEP_STEP * 4;
    for (let i = 0; i < n; i++) c.set(`expiring-token-${i}`.padStart(40, '.'), entry(60), 0);
    const now = 60_000 + SWEEP_INTERVAL_MS;
    c.get('no-such-token', now);
    expect(c.size).toBe(n - SWEEP_STEP);
    for (let i = 0; i < 4; i++) c.get('no-such-token', now);
    expect(c.size).toBe(0);
  });

  it('size 0 disables caching', () => {
    const c = new TokenCache(0);
    c.set('a', entry(100), 0);
    expect(c.get('a', 0)).toBeUndefined();
  });
});

// Both shapes of a verifier: promise only, and with the synchronous `now` (what createServerAuth builds).
describe.each([{ sync: false }, { sync: true }])(
  'createAuthenticator, sync $sync (cache + revocation + key epochs)',
  ({ sync }) => {
    let k: TestKey;
    beforeAll(async () => {
      k = await makeKey('EdDSA', 'k1');
    });
    afterEach(() => vi.useRealTimers());

    async function setup(cacheSize = 100) {
      const keys = createKeyStore(jwksSource([k]).source);
      await keys.ready();
      const feed = new FakeFeed();
      const inner = createVerifier({
        keys,
        issuer: ISSUER,
        audiences: [AUDIENCE],
        algorithms: ['EdDSA'],
        clockToleranceSec: 0,
        maxTokenBytes: 8192,
      });
      let verifications = 0;
      const counted: Verifier = (t, o) => (verifications++, inner(t, o));
      if (sync) counted.now = (t, o) => (verifications++, inner.now!(t, o));
      const auth = createAuthenticator(counted, keys, feed, cacheSize);
      return { keys, feed, auth, verifications: () => verifications };
    }

    it('a warm token is served from the cache, the same Principal object each time', async () => {
      const s = await setup();
      const t = await signToken(k);
      const p1 = await s.auth.authenticate(t);
      expect(s.auth.cached(t)).toBe(p1);
      expect(await s.auth.authenticate(t)).toBe(p1);
      expect(s.verifications()).toBe(1);
      s.keys.close();
    });

    it('concurrent calls with one fresh token share a single verification', async () => {
      const s = await setup();
      const t = await signToken(k);
      const ps = await Promise.all(Array.from({ length: 20 }, () => s.auth.authenticate(t)));
      expect(new Set(ps).size).toBe(1);
      expect(s.verifications()).toBe(1);
      const bad = await signToken(k, { aud: 'billing' });
      const rs = await Promise.allSettled(Array.from({ length: 5 }, () => s.auth.authenticate(bad)));
      expect(rs.every((r) => r.status === 'rejected')).toBe(true);
      // A refusal is never cached: checked synchronously, each call is its own check (none overlap).
      expect(s.verifications()).toBe(sync ? 6 : 2);
      s.keys.close();
    });

    it('a token sharing its in-flight key with another is verified on its own, never handed its verdict', async () => {
      const s = await setup();
      const good = await signToken(k, { sub: 'alice' });
      // Same signature (so the same key: its last characters), another payload: must not verify.
      const [h, , sig] = good.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url')}.${sig}`;
      expect(forged.slice(-CACHE_KEY_CHARS)).toBe(good.slice(-CACHE_KEY_CHARS));
      const [a, b] = await Promise.allSettled([s.auth.authenticate(good), s.auth.authenticate(forged)]);
      expect(a).toMatchObject({ status: 'fulfilled', value: { sub: 'alice' } });
      expect(b.status).toBe('rejected');
      expect(s.verifications()).toBe(2);
      // Nothing left in flight: the next try verifies again.
      await expect(s.auth.authenticate(forged)).rejects.toBeDefined();
      expect(s.verifications()).toBe(3);
      s.keys.close();
    });

    it('a revocation applies on the very next call; unrelated epochs moves keep the entry', async () => {
      const s = await setup();
      const t = await signToken(k, { sid: 's1' });
      const p = await s.auth.authenticate(t);
      s.feed.revoke('sid', 'other');
      expect(s.auth.cached(t)).toBe(p); // re-checked once, still good
      s.feed.revoke('sid', 's1');
      expect(() => s.auth.cached(t)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_REVOKED' }));
      await expect(s.auth.authenticate(t)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
      expect(s.auth.cache.size).toBe(0); // revoked tokens are not cached
      s.keys.close();
    });

    it('an unverified (replayed) revocation is settled by confirm(): forged admits, genuine rejects', async () => {
      const s = await setup();
      const t = await signToken(k, { sub: 'pending-user' });
      let genuine = false;
      let asked = 0;
      // A feed whose matching entry is still unverified: isRevoked fails closed, confirm() decides.
      const pendingFeed = Object.assign(s.feed, {
        isRevoked: (p: { sub: string }) => p.sub === 'pending-user',
        confirm: async () => (asked++, genuine),
      });
      const auth = createAuthenticator(
        (tok, o) =>
          createVerifier({
            keys: s.keys,
            issuer: ISSUER,
            audiences: [AUDIENCE],
            algorithms: ['EdDSA'],
            clockToleranceSec: 0,
            maxTokenBytes: 8192,
          })(tok, o),
        s.keys,
        pendingFeed,
        10,
      );
      expect((await auth.authenticate(t)).sub).toBe('pending-user');
      genuine = true;
      pendingFeed.epoch++;
      // The cached verdict is re-checked: the sync path defers to confirm() instead of failing closed.
      expect(auth.cached(t)).toBeUndefined();
      await expect(auth.authenticate(t)).rejects.toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
      expect(asked).toBe(2);
      s.keys.close();
    });

    it('a removed key fails its cached tokens on the next call', async () => {
      const s = await setup();
      const t = await signToken(k);
      await s.auth.authenticate(t);
      s.keys.remove('k1');
      expect(() => s.auth.cached(t)).toThrow(expect.objectContaining({ code: 'ERR_KEY_UNKNOWN' }));
      s.keys.close();
    });

    it('an entry never outlives the token exp (frozen clock)', async () => {
      const t0 = 1_900_000_000;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(t0 * 1000);
      const s = await setup();
      const t = await signToken(k, { iat: t0, nbf: t0, exp: t0 + 60 });
      await s.auth.authenticate(t);
      vi.setSystemTime((t0 + 59) * 1000);
      expect(s.auth.cached(t)).toBeDefined();
      vi.setSystemTime((t0 + 60) * 1000);
      expect(s.auth.cached(t)).toBeUndefined();
      await expect(s.auth.authenticate(t)).rejects.toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
      s.keys.close();
    });

    it("a forged token reusing a cached token's signature is verified, not served from the cache", async () => {
      const s = await setup();
      const t = await signToken(k, { sub: 'alice' });
      await s.auth.authenticate(t);
      const [h, p, sig] = t.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'root' })).toString('base64url')}.${sig}`;
      expect(s.auth.cached(forged)).toBeUndefined();
      await expect(s.auth.authenticate(forged)).rejects.toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
      expect(s.auth.cached(t)?.sub).toBe('alice'); // the genuine entry is untouched
      s.keys.close();
    });

    it('expired verdicts are swept while other tokens stay warm (frozen clock)', async () => {
      const t0 = 1_900_000_000;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(t0 * 1000);
      const s = await setup();
      const short = await Promise.all(
        [1, 2, 3].map((i) => signToken(k, { iat: t0, nbf: t0, exp: t0 + 60 + i })),
      );
      const long = await signToken(k, { iat: t0, nbf: t0, exp: t0 + 3600 });
      for (const t of [...short, long]) await s.auth.authenticate(t);
      expect(s.auth.cache.size).toBe(4);
      vi.setSystemTime((t0 + 64) * 1000 + SWEEP_INTERVAL_MS);
      expect(s.auth.cached(long)).toBeDefined(); // a warm hit is enough to sweep
      expect(s.auth.cache.size).toBe(1);
      s.keys.close();
    });

    it('any-audience verdicts are not cached for normal calls', async () => {
      const s = await setup();
      const t = await signToken(k, { aud: 'billing' });
      await s.auth.authenticate(t, true);
      expect(s.auth.cached(t)).toBeUndefined();
      await expect(s.auth.authenticate(t)).rejects.toMatchObject({ code: 'ERR_TOKEN_AUDIENCE' });
      s.keys.close();
    });

    it('evictInvalid() drops exactly the entries a revocation hits', async () => {
      const s = await setup();
      const a = await signToken(k, { sub: 'a' });
      const b = await signToken(k, { sub: 'b' });
      await s.auth.authenticate(a);
      await s.auth.authenticate(b);
      s.feed.revoke('sub', 'a', Math.floor(Date.now() / 1000) + 1);
      s.auth.evictInvalid();
      expect(s.auth.cache.size).toBe(1);
      expect(s.auth.cached(b)).toBeDefined();
      s.keys.close();
    });
  },
);
