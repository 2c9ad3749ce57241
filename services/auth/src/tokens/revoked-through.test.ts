import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenMinter } from './minter.js';
import { RevokedThrough } from './revoked-through.js';

describe('RevokedThrough', () => {
  it('keeps the latest sub and all instants; other kinds do not constrain new tokens', () => {
    const t = new RevokedThrough(() => 1000);
    expect(t.floor('alice')).toBe(-1);
    t.note('sub', 'alice', 990);
    t.note('sub', 'alice', 980); // an older, replayed event never lowers it
    t.note('jti', 'alice', 999);
    t.note('kid', 'alice', 999);
    expect(t.floor('alice')).toBe(990);
    expect(t.floor('bob')).toBe(-1);
    t.note('all', '', 995);
    expect(t.floor('alice')).toBe(995);
    expect(t.floor('bob')).toBe(995);
  });

  it('prunes instants too old to matter once it has grown, so a flood of subjects stays bounded', () => {
    let now = 1000;
    const t = new RevokedThrough(() => now);
    for (let i = 0; i < 4096; i++) t.note('sub', `u${i}`, 1000);
    now = 2000;
    t.note('sub', 'late', 2000);
    expect(t.size).toBe(1);
    expect(t.floor('late')).toBe(2000);
  });

  it('a bulk revocation of many recent subjects is noted in amortized O(1), and folds past its bound', () => {
    const t = new RevokedThrough(() => 1000);
    // Every one recent: before, each note past 4,096 rescanned the whole map (quadratic, seconds here).
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) t.note('sub', `u${i}`, 1000);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(t.size).toBeLessThanOrEqual(65_536);
    // Folded or held, every subject's floor is still its revocation.
    for (const sub of ['u0', 'u50000', 'u99999']) expect(t.floor(sub)).toBe(1000);
    expect(t.floor('never-revoked')).toBeLessThanOrEqual(1000);
  });
});

describe('minter iatFloor', () => {
  it('issues a token after a revocation of its subject in the same second, never at or before it', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const through = new RevokedThrough();
    const nowMs = 1_800_000_000_500;
    const minter = createTokenMinter({
      issuer: 'http://iss.test',
      accessTtlSec: 300,
      keys: { current: () => ({ kid: 'k', alg: 'EdDSA', privateKey }) },
      now: () => nowMs,
      iatFloor: (sub) => through.floor(sub),
    });
    const mint = async (sub: string) =>
      decodeJwt((await minter.mint({ sub, clientId: 'c', aud: ['echo'], scope: [], roles: [] })).token);
    through.note('sub', 'alice', 1_800_000_000); // revoked this very second: iat <= at would be revoked
    const a = await mint('alice');
    expect(a.iat).toBe(1_800_000_001);
    expect(a.exp! - a.iat!).toBe(300);
    expect((await mint('bob')).iat).toBe(1_800_000_000);
  });

  it('refuses a non-function iatFloor at construction, naming it', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    expect(() =>
      createTokenMinter({
        issuer: 'http://iss.test',
        accessTtlSec: 300,
        keys: { current: () => ({ kid: 'k', alg: 'EdDSA', privateKey }) },
        iatFloor: 5 as unknown as () => number,
      }),
    ).toThrow(/iatFloor/);
  });
});
