import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { openBucket } from '../nats.js';
import { createTokenMinter } from '../tokens/minter.js';
import { Kek } from './kek.js';
import { NatsKeyManager, RING_KEY, type KeyManagerOptions } from './key-manager.js';
import {
  createRing,
  eventOnlyKeys,
  kidsOf,
  newKid,
  publicKeys,
  rotateRing,
  withdrawFromRing,
} from './ring.js';

let server: NatsServer;
let nc: NatsConnection;
const kek = new Kek(randomBytes(32));
let bucketNo = 0;

beforeAll(async () => {
  server = await NatsServer.start();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

async function freshOptions(extra: Partial<KeyManagerOptions> = {}): Promise<KeyManagerOptions> {
  const kv = await openBucket(nc.jetstream(), `KEYS_TEST_${++bucketNo}`, 1);
  return { kv, kek, alg: 'EdDSA', accessTtlSec: 60, clockSkewSec: 5, rotationIntervalSec: 0, ...extra };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('NatsKeyManager', () => {
  it('creates one ring when several managers start at once; all adopt it', async () => {
    const base = await freshOptions();
    const managers = await Promise.all([1, 2, 3, 4].map(() => NatsKeyManager.open({ ...base })));
    try {
      const kids = new Set(managers.map((m) => m.current().kid));
      expect(kids.size).toBe(1);
      expect(managers.every((m) => m.revision === managers[0]!.revision)).toBe(true);
      // current + pre-published next
      expect(managers[0]!.jwks().keys).toHaveLength(2);
      expect(managers[0]!.jwks().keys[0]!.kid).toBe(managers[0]!.current().kid);
      expect(managers[0]!.jwksJson()).not.toMatch(/"d"/);
    } finally {
      await Promise.all(managers.map((m) => m.close()));
    }
  });

  it('concurrent rotations: exactly one wins, the other adopts; watchers follow', async () => {
    const base = await freshOptions();
    // Both rotations read the same ring before either writes (the race the CAS settles), staged: on a
    // busy machine one rotate() could otherwise finish before the other starts, and rotate twice.
    let armed = false;
    let reads = 0;
    let bothRead!: () => void;
    const readsDone = new Promise<void>((resolve) => (bothRead = resolve));
    const kv = base.kv;
    const staged = new Proxy(kv, {
      get(target, prop) {
        if (armed && prop === 'get')
          return async (...args: Parameters<typeof kv.get>) => {
            const entry = await target.get(...args);
            if (++reads === 2) bothRead();
            return entry;
          };
        if (armed && prop === 'update')
          return async (...args: Parameters<typeof kv.update>) => {
            await readsDone;
            return target.update(...args);
          };
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const a = await NatsKeyManager.open({ ...base, kv: staged });
    const b = await NatsKeyManager.open({ ...base, kv: staged });
    const c = await NatsKeyManager.open({ ...base });
    const announced: string[] = [];
    try {
      const before = a.current().kid;
      const next = a.jwks().keys[1]!.kid;
      armed = true;
      await Promise.all([a.rotate(), b.rotate()]);
      armed = false;
      // Each rotate() read the same ring; CAS lets one write, the loser sees the key it meant to retire gone.
      expect(a.current().kid).toBe(next);
      expect(b.current().kid).toBe(next);
      await until(() => c.current().kid === next);
      const ring = a.ring;
      expect(ring.keys.map((k) => k.state).sort()).toEqual(['current', 'next', 'retired']);
      expect(ring.keys.find((k) => k.kid === before)?.sealed).toBeUndefined();
      const changed = new Promise<void>((r) => c.onChange(() => r()));
      const a2 = await NatsKeyManager.open({
        ...base,
        watch: false,
        announce: (e) => announced.push(e.current),
      });
      await a2.rotate();
      await changed;
      expect(c.current().kid).toBe(a2.current().kid);
      expect(announced).toEqual([a2.current().kid]);
      await a2.close();
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('rotates on schedule once across replicas, keeps retired keys for TTL + skew, then drops them', async () => {
    let now = 1_700_000_000_000;
    const base = await freshOptions({ rotationIntervalSec: 100, now: () => now, checkEveryMs: 3_600_000 });
    const a = await NatsKeyManager.open({ ...base });
    const b = await NatsKeyManager.open({ ...base });
    try {
      const first = a.current().kid;
      const minter = createTokenMinter({ issuer: 'i', accessTtlSec: 60, keys: a, now: () => now });

      now += 99_000;
      await Promise.all([a.check(), b.check()]);
      const old = await minter.mint({ sub: 's', clientId: 'c', aud: ['x'], scope: [], roles: [] });
      expect(a.current().kid).toBe(first);

      now += 1_000;
      const rev = a.revision;
      expect(await Promise.all([a.rotateIfDue(), b.rotateIfDue()])).toSatisfy(
        (r: boolean[]) => r.filter(Boolean).length === 1,
      );
      expect(a.revision).toBe(rev + 1);
      expect(b.current().kid).toBe(a.current().kid);
      expect(a.current().kid).not.toBe(first);

      // Retired key stays published (tokens it signed still verify) until retired_at + 60 s + 5 s.
      const verify = (m: NatsKeyManager) =>
        jwtVerify(old.token, createLocalJWKSet(m.jwks()), { currentDate: new Date(now) });
      await expect(verify(a)).resolves.toBeTruthy();
      now += 64_000;
      await a.check();
      expect(a.jwks().keys.map((k) => k.kid)).toContain(first);
      now += 1_000;
      await a.check();
      expect(a.jwks().keys.map((k) => k.kid)).not.toContain(first);
      expect(a.jwks().keys).toHaveLength(2);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('withdraws the current key at once (rotating first) and refuses a wrong KEK', async () => {
    const base = await freshOptions();
    const a = await NatsKeyManager.open({ ...base });
    try {
      const cur = a.current().kid;
      await a.withdraw(cur);
      expect(a.current().kid).not.toBe(cur);
      expect(a.jwks().keys.map((k) => k.kid)).not.toContain(cur);
      expect(a.jwks().keys).toHaveLength(2);
      // Kept for revocation events only, never in the JWKS: removing a key never un-revokes.
      expect(a.eventKeys().map((k) => k.kid)).toEqual([cur]);
      expect(JSON.parse(a.eventKeysJson()).keys[0].kid).toBe(cur);
      expect(a.eventKeys()[0]).not.toHaveProperty('d');
      // ...and it survives a later rotation of the ring.
      await a.rotate();
      expect(a.eventKeys().map((k) => k.kid)).toEqual([cur]);
      expect(a.jwks().keys.map((k) => k.kid)).not.toContain(cur);
      const rev = a.revision;
      await a.withdraw('no-such-kid');
      expect(a.revision).toBe(rev);
      await expect(NatsKeyManager.open({ ...base, kek: new Kek(randomBytes(32)) })).rejects.toThrow(
        /AUTHMESH_KEK differs/,
      );
      expect((await base.kv.get(RING_KEY))?.string()).not.toContain('"d":');
    } finally {
      await a.close();
    }
  });

  it('keeps a withdrawn key for events until the revocation stream no longer holds what it signed', () => {
    const kek = new Kek(randomBytes(32));
    const ring = createRing('EdDSA', kek, 0);
    const cur = ring.keys.find((k) => k.state === 'current')!.kid;
    const withdrawn = withdrawFromRing(ring, cur, 'EdDSA', kek, 1000, 60_000)!;
    expect(publicKeys(withdrawn, 1000, 60_000).map((k) => k.kid)).not.toContain(cur);
    // retainMs (the longest token lifetime) plus the stream's extra minute.
    expect(eventOnlyKeys(withdrawn, 1000 + 60_000 + 59_999, 60_000).map((k) => k.kid)).toEqual([cur]);
    expect(eventOnlyKeys(withdrawn, 1000 + 60_000 + 60_000, 60_000)).toEqual([]);
  });

  it('kids are short (8 characters, 48 random bits) and never reuse one the ring holds or withdrew', () => {
    const kek = new Kek(randomBytes(32));
    let ring = createRing('EdDSA', kek, 0);
    const seen = new Set<string>();
    for (let i = 1; i <= 6; i++) {
      for (const k of ring.keys) {
        expect(k.kid).toMatch(/^[A-Za-z0-9_-]{8}$/);
        expect(k.publicJwk.kid).toBe(k.kid);
      }
      expect(kidsOf(ring).size).toBe(ring.keys.length + (ring.withdrawn?.length ?? 0));
      for (const kid of kidsOf(ring)) seen.add(kid);
      ring =
        i % 2 === 0
          ? withdrawFromRing(ring, ring.keys.find((k) => k.state === 'next')!.kid, 'EdDSA', kek, i, 60_000)!
          : rotateRing(ring, 'EdDSA', kek, i, 60_000);
    }
    expect(seen.size).toBeGreaterThan(6);
    // A draw that collides is drawn again; one that cannot avoid a collision fails loudly.
    const taken = new Set([newKid(new Set())]);
    expect(taken.has(newKid(taken))).toBe(false);
    const everything = { has: () => true } as unknown as ReadonlySet<string>;
    expect(() => newKid(everything)).toThrow(/unused kid/);
  });

  it('generates ES256 (P-256) keys when selected, and the minter signs with them', async () => {
    const m = await NatsKeyManager.open(await freshOptions({ alg: 'ES256' }));
    try {
      expect(m.current().alg).toBe('ES256');
      expect(m.jwks().keys.every((k) => k.kty === 'EC' && k.crv === 'P-256' && k.alg === 'ES256')).toBe(true);
      const minter = createTokenMinter({ issuer: 'i', accessTtlSec: 60, keys: m });
      const t = await minter.mint({ sub: 's', clientId: 'c', aud: ['x'], scope: [], roles: [] });
      const { protectedHeader } = await jwtVerify(t.token, createLocalJWKSet(m.jwks()), {
        algorithms: ['ES256'],
      });
      expect(protectedHeader.kid).toBe(m.current().kid);
    } finally {
      await m.close();
    }
  });
});
