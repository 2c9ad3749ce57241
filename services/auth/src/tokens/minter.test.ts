import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { SigningAlg, SigningKey } from '../keys/key-manager.types.js';
import { createTokenMinter } from './minter.js';

function keyFor(alg: SigningAlg): { key: SigningKey; jwk: JWK } {
  const pair =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `k-${alg}`;
  return {
    key: { kid, alg, privateKey: pair.privateKey },
    jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, alg },
  };
}

describe('createTokenMinter', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    it(`mints an RFC 9068 token that plain jose verifies (${alg})`, async () => {
      const { key, jwk } = keyFor(alg);
      const minter = createTokenMinter({
        issuer: 'http://iss.test',
        accessTtlSec: 300,
        keys: { current: () => key },
      });
      const t = await minter.mint({
        sub: 'alice',
        clientId: 'cli',
        aud: ['echo'],
        scope: ['a:read', 'b'],
        roles: ['admin'],
        sid: 'S1',
        act: { sub: 'svc' },
      });
      const { payload, protectedHeader } = await jwtVerify(t.token, createLocalJWKSet({ keys: [jwk] }), {
        issuer: 'http://iss.test',
        audience: 'echo',
        typ: 'at+jwt',
        algorithms: [alg],
      });
      expect(protectedHeader).toEqual({ alg, kid: key.kid, typ: 'at+jwt' });
      expect(payload).toMatchObject({
        sub: 'alice',
        client_id: 'cli',
        scope: 'a:read b',
        roles: ['admin'],
        sid: 'S1',
        act: { sub: 'svc' },
      });
      expect(payload.exp! - payload.iat!).toBe(300);
      expect(payload.nbf).toBeUndefined(); // it would equal iat: left out (README, "Access tokens")
      expect(payload.jti).toBe(t.jti);
      expect(Buffer.from(t.jti, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(t.kid).toBe(key.kid);
    });
  }

  it('signs ES256 in the low-S form only (verifiers refuse the high-S twin, s > n/2)', async () => {
    const { key } = keyFor('ES256');
    const minter = createTokenMinter({
      issuer: 'http://iss.test',
      accessTtlSec: 300,
      keys: { current: () => key },
    });
    const halfN = 0x7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8n;
    // node:crypto draws s either side of n/2 about equally: 64 tokens would all be low-S by chance
    // with probability 2^-64.
    for (let i = 0; i < 64; i++) {
      const { token } = await minter.mint({
        sub: 'alice',
        clientId: 'cli',
        aud: ['echo'],
        scope: [],
        roles: [],
      });
      const sig = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
      expect(sig.length).toBe(64);
      expect(BigInt(`0x${sig.subarray(32).toString('hex')}`) <= halfN).toBe(true);
    }
  });

  it('a typical password-grant token: RFC 9068 claims, no nbf, no empty scope/roles; jti 128 random bits', async () => {
    const { key } = keyFor('EdDSA');
    const minter = createTokenMinter({
      issuer: 'https://auth.authmesh.internal',
      accessTtlSec: 300,
      keys: { current: () => ({ ...key, kid: 'AbCdEfGh' }) },
    });
    const req = { sub: 'alice', clientId: 'echo-cli', aud: ['echo'], scope: ['echo:read', 'echo:write'] };
    // A session id as newSessionId draws them: 96 bits, 16 characters (22 before).
    const t = await minter.mint({ ...req, roles: ['user'], sid: 'lKatEXg-OOqe1rKg' });
    const claims = JSON.parse(Buffer.from(t.token.split('.')[1]!, 'base64url').toString()) as object;
    expect(Object.keys(claims)).toEqual([
      'iss',
      'sub',
      'aud',
      'exp',
      'iat',
      'jti',
      'client_id',
      'scope',
      'roles',
      'sid',
    ]);
    // 505 characters with nbf and a 22-character kid, 463 with a 22-character sid; README "Access tokens".
    expect(t.token.length).toBeLessThanOrEqual(455);
    const bare = await minter.mint({ ...req, scope: [], roles: [] });
    const bareClaims = JSON.parse(Buffer.from(bare.token.split('.')[1]!, 'base64url').toString()) as object;
    expect(Object.keys(bareClaims)).toEqual(['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']);
    const jtis = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const { jti } = await minter.mint({ ...req, roles: [] });
      expect(Buffer.from(jti, 'base64url')).toHaveLength(16);
      jtis.add(jti);
    }
    expect(jtis.size).toBe(300);
  });

  it('follows the current key and honours ttlSec; rejects bad requests with a TypeError', async () => {
    let { key } = keyFor('EdDSA');
    const minter = createTokenMinter({
      issuer: 'i',
      accessTtlSec: 60,
      keys: { current: () => key },
      now: () => 1_000_000,
    });
    const a = await minter.mint({
      sub: 's',
      clientId: 'c',
      aud: ['x', 'y'],
      scope: [],
      roles: [],
      ttlSec: 10,
    });
    expect(a.exp - a.iat).toBe(10);
    key = { ...keyFor('ES256').key, kid: 'other' };
    const b = await minter.mint({ sub: 's', clientId: 'c', aud: ['x'], scope: [], roles: [] });
    expect(decodeProtectedHeader(b.token)).toMatchObject({ kid: 'other', alg: 'ES256' });
    expect(a.jti).not.toBe(b.jti);
    await expect(minter.mint({ sub: '', clientId: 'c', aud: ['x'], scope: [], roles: [] })).rejects.toThrow(
      /sub/,
    );
    await expect(minter.mint({ sub: 's', clientId: 'c', aud: [], scope: [], roles: [] })).rejects.toThrow(
      /aud/,
    );
    await expect(
      minter.mint({ sub: 's', clientId: 'c', aud: ['x'], scope: ['a b'], roles: [] }),
    ).rejects.toThrow(/scope/);
    await expect(
      minter.mint({ sub: 's', clientId: 'c', aud: ['x'], scope: [], roles: [], ttlSec: 61 }),
    ).rejects.toThrow(/ttlSec/);
    expect(() => createTokenMinter({ issuer: '', accessTtlSec: 1, keys: { current: () => key } })).toThrow(
      /issuer/,
    );
  });
});
