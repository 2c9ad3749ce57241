import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import {
  peekRevocationClaims,
  peekRevocationValue,
  MAX_BATCH_VALUES,
  peekRevocationValues,
  MAX_REVOCATION_EVENT_BYTES,
  signRevocationEvent,
  verifyRevocationEvent,
  verifyRevocationEvents,
  type RevocationEventErrorCode,
} from './event.js';
import type { RevocationEventClaims } from './revocation.types.js';

const ISS = 'http://issuer.test';
const ed = generateKeyPairSync('ed25519');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ed25519');
const edKey = { kid: 'ed-1', alg: 'EdDSA', privateKey: ed.privateKey };
const ecKey = { kid: 'ec-1', alg: 'ES256', privateKey: ec.privateKey };

/** A tiny KeyStore: `late` keys are only found by `resolve` (as after a JWKS refresh). */
function keyStore(keys: VerificationKey[], late: VerificationKey[] = []): KeyStore & { resolves: number } {
  const map = new Map(keys.map((k) => [k.kid, k]));
  return {
    resolves: 0,
    epoch: 0,
    get: (kid) => map.get(kid),
    async resolve(kid) {
      this.resolves++;
      if (!map.has(kid)) for (const k of late) map.set(k.kid, k);
      return map.get(kid);
    },
    refresh: async () => {},
    remove: (kid) => void map.delete(kid),
    ready: async () => {},
    close: () => {},
  };
}
const vk = (kid: string, alg: string, key: KeyObject): VerificationKey => ({ kid, alg, key });
const store = () => keyStore([vk('ed-1', 'EdDSA', ed.publicKey), vk('ec-1', 'ES256', ec.publicKey)]);
const claims: RevocationEventClaims = {
  v: 1,
  kind: 'jti',
  value: 'abc',
  at: 1_800_000_000,
  exp: 1_800_000_300,
  reason: 'logout',
};

async function expectCode(p: Promise<unknown>, code: RevocationEventErrorCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'RevocationEventError', code });
}
const rawSign = (payload: object, header: Record<string, unknown>, key: KeyObject) =>
  new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header as { alg: string })
    .sign(key);

describe('revocation event codec', () => {
  it('round-trips with EdDSA and ES256, header typ authmesh-revocation+jwt', async () => {
    for (const key of [edKey, ecKey]) {
      const jws = await signRevocationEvent(claims, key, ISS);
      const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString());
      expect(header).toEqual({ alg: key.alg, kid: key.kid, typ: 'authmesh-revocation+jwt' });
      expect(await verifyRevocationEvent(jws, store(), ISS)).toEqual(claims);
      expect(peekRevocationClaims(Buffer.from(jws))).toEqual(claims);
    }
  });

  it('accepts only the low-S form of an ES256 signature (no second encoding of one event)', async () => {
    const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    for (let i = 0; i < 8; i++) {
      const jws = await signRevocationEvent({ ...claims, value: `v${i}` }, ecKey, ISS);
      const dot = jws.lastIndexOf('.');
      const sig = Buffer.from(jws.slice(dot + 1), 'base64url');
      const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
      expect(s <= N >> 1n).toBe(true); // the signer normalizes
      // (r, n − s) verifies mathematically; it must be refused.
      Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex').copy(sig, 32);
      const high = `${jws.slice(0, dot + 1)}${sig.toString('base64url')}`;
      expect(await verifyRevocationEvent(jws, store(), ISS)).toMatchObject({ value: `v${i}` });
      await expect(verifyRevocationEvent(high, store(), ISS)).rejects.toMatchObject({
        code: 'ERR_EVENT_SIGNATURE',
      });
    }
  });

  it('accepts a key known only after a refresh (resolve)', async () => {
    const late = generateKeyPairSync('ed25519');
    const ks = keyStore([], [vk('new', 'EdDSA', late.publicKey)]);
    const jws = await signRevocationEvent(
      claims,
      { kid: 'new', alg: 'EdDSA', privateKey: late.privateKey },
      ISS,
    );
    expect((await verifyRevocationEvent(jws, ks, ISS)).value).toBe('abc');
    expect(ks.resolves).toBe(1);
  });

  it('refuses a forged event (signed by a key not in the JWKS under a known kid)', async () => {
    const jws = await signRevocationEvent(
      claims,
      { kid: 'ed-1', alg: 'EdDSA', privateKey: other.privateKey },
      ISS,
    );
    await expectCode(verifyRevocationEvent(jws, store(), ISS), 'ERR_EVENT_SIGNATURE');
  });

  it('refuses an unknown kid', async () => {
    const jws = await signRevocationEvent(
      claims,
      { kid: 'nope', alg: 'EdDSA', privateKey: ed.privateKey },
      ISS,
    );
    await expectCode(verifyRevocationEvent(jws, store(), ISS), 'ERR_EVENT_KID');
  });

  it('refuses a wrong typ, e.g. an access token', async () => {
    const jws = await rawSign(
      { ...claims, iss: ISS },
      { alg: 'EdDSA', kid: 'ed-1', typ: 'at+jwt' },
      ed.privateKey,
    );
    await expectCode(verifyRevocationEvent(jws, store(), ISS), 'ERR_EVENT_TYP');
    const none = await rawSign({ ...claims, iss: ISS }, { alg: 'EdDSA', kid: 'ed-1' }, ed.privateKey);
    await expectCode(verifyRevocationEvent(none, store(), ISS), 'ERR_EVENT_TYP');
  });

  it('refuses alg none, an alg outside the allowlist and an alg that does not match the key', async () => {
    const payload = Buffer.from(JSON.stringify({ ...claims, iss: ISS })).toString('base64url');
    const noneHeader = Buffer.from(
      JSON.stringify({ alg: 'none', kid: 'ed-1', typ: 'authmesh-revocation+jwt' }),
    ).toString('base64url');
    await expectCode(verifyRevocationEvent(`${noneHeader}.${payload}.`, store(), ISS), 'ERR_EVENT_ALG');
    const mixed = await rawSign(
      { ...claims, iss: ISS },
      { alg: 'EdDSA', kid: 'ec-1', typ: 'authmesh-revocation+jwt' },
      ed.privateKey,
    );
    await expectCode(verifyRevocationEvent(mixed, store(), ISS), 'ERR_EVENT_ALG');
  });

  it('refuses a tampered payload', async () => {
    const jws = await signRevocationEvent(claims, edKey, ISS);
    const [h, , s] = jws.split('.');
    const forged = Buffer.from(JSON.stringify({ ...claims, value: 'victim', iss: ISS })).toString(
      'base64url',
    );
    await expectCode(verifyRevocationEvent(`${h}.${forged}.${s}`, store(), ISS), 'ERR_EVENT_SIGNATURE');
  });

  it('refuses another issuer and bad claims, even when well signed', async () => {
    await expectCode(
      verifyRevocationEvent(await signRevocationEvent(claims, edKey, 'http://other'), store(), ISS),
      'ERR_EVENT_ISSUER',
    );
    const header = { alg: 'EdDSA', kid: 'ed-1', typ: 'authmesh-revocation+jwt' };
    for (const bad of [
      { ...claims, v: 2 },
      { ...claims, kind: 'user' },
      { ...claims, value: 'x'.repeat(513) },
      { ...claims, at: '1' },
      { ...claims, exp: undefined },
      { ...claims, kind: 'all', value: 'x' },
    ]) {
      const jws = await rawSign({ ...bad, iss: ISS }, header, ed.privateKey);
      await expectCode(verifyRevocationEvent(jws, store(), ISS), 'ERR_EVENT_CLAIMS');
      expect(peekRevocationClaims(Buffer.from(jws))).toBeUndefined();
    }
  });

  it('refuses garbage without echoing it', async () => {
    const err = await verifyRevocationEvent('secret-looking.garbage', store(), ISS).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'ERR_EVENT_MALFORMED' });
    expect(String((err as Error).message)).not.toContain('secret');
    expect(peekRevocationClaims(Buffer.from('a.b'))).toBeUndefined();
    expect(peekRevocationClaims(Buffer.from('a.!!!.c'))).toBeUndefined();
  });

  it('peekRevocationValue reads the value fast, and falls back or refuses on anything unusual', async () => {
    const enc = (payload: object) =>
      Buffer.from(`e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`);
    expect(peekRevocationValue(Buffer.from(await signRevocationEvent(claims, edKey, ISS)))).toBe('abc');
    // A reason that quotes the key text cannot fool the scan: inside a string its quotes are escaped.
    expect(
      peekRevocationValue(enc({ v: 1, kind: 'jti', reason: '"value":"evil"', value: 'real', at: 1, exp: 2 })),
    ).toBe('real');
    expect(peekRevocationValue(enc({ ...claims, value: 'a"b\\c' }))).toBe('a"b\\c');
    expect(peekRevocationValue(enc({ ...claims, value: 'ünï' }))).toBe('ünï');
    const long = { ...claims, reason: 'r'.repeat(5000), value: 'in-a-long-payload' };
    expect(peekRevocationValue(enc(long))).toBe('in-a-long-payload');
    expect(peekRevocationValue(enc({ ...claims, value: '' }))).toBeUndefined();
    expect(peekRevocationValue(enc({ ...claims, value: 'x'.repeat(513) }))).toBeUndefined();
    expect(peekRevocationValue(Buffer.from('no-dots'))).toBeUndefined();
    expect(peekRevocationValue(Buffer.from('a.!!!.c'))).toBeUndefined();
    // A view into a larger buffer (as NATS hands payloads over) is read at its own offset.
    const big = Buffer.concat([Buffer.from('xxxx.'), enc({ ...claims, value: 'offset' })]);
    expect(peekRevocationValue(big.subarray(5))).toBe('offset');
  });

  it('signing validates its input', async () => {
    await expect(signRevocationEvent({ ...claims, kind: 'x' as 'jti' }, edKey, ISS)).rejects.toThrow(
      TypeError,
    );
    await expect(signRevocationEvent(claims, { ...edKey, alg: 'HS256' }, ISS)).rejects.toThrow(/key\.alg/);
    await expect(signRevocationEvent(claims, edKey, '')).rejects.toThrow(/issuer/);
  });
  it('batch events (v 2): one signature for many values, read as one claims object per value', async () => {
    const batch = {
      v: 2 as const,
      kind: 'sub' as const,
      values: ['a', 'b', 'c'],
      at: 10,
      exp: 20,
      reason: 'r',
    };
    const jws = await signRevocationEvent(batch, edKey, ISS);
    expect(await verifyRevocationEvents(jws, store(), ISS)).toEqual(
      ['a', 'b', 'c'].map((value) => ({ v: 1, kind: 'sub', value, at: 10, exp: 20, reason: 'r' })),
    );
    expect(peekRevocationValues(Buffer.from(jws))).toEqual(['a', 'b', 'c']);
    // The single-event API never returns part of a batch as if it were the whole event.
    await expectCode(verifyRevocationEvent(jws, store(), ISS), 'ERR_EVENT_CLAIMS');
    // A single event reads as a list of one.
    const one = await signRevocationEvent(claims, edKey, ISS);
    expect(await verifyRevocationEvents(one, store(), ISS)).toEqual([claims]);
    expect(peekRevocationValues(Buffer.from(one))).toEqual(['abc']);
    // Kinds kid and all are never batched; values are non-empty and bounded in count and length.
    for (const bad of [
      { ...batch, kind: 'kid' },
      { ...batch, kind: 'all' },
      { ...batch, values: [] },
      { ...batch, values: ['ok', ''] },
      { ...batch, values: ['x'.repeat(513)] },
      { ...batch, values: Array.from({ length: MAX_BATCH_VALUES + 1 }, (_, i) => `v${i}`) },
      { ...batch, values: 'a' },
    ]) {
      await expect(signRevocationEvent(bad as never, edKey, ISS)).rejects.toThrow(TypeError);
      const forgedShape = await rawSign(
        { ...bad, iss: ISS },
        { alg: 'EdDSA', kid: 'ed-1', typ: 'authmesh-revocation+jwt' },
        ed.privateKey,
      );
      await expectCode(verifyRevocationEvents(forgedShape, store(), ISS), 'ERR_EVENT_CLAIMS');
    }
  });
  it('a batch over MAX_REVOCATION_EVENT_BYTES is refused everywhere, the replay fast path included', async () => {
    // 1000 values of 22 characters: within the count bound, ~33 KB once signed.
    const values = Array.from({ length: MAX_BATCH_VALUES }, (_, i) => `${i}`.padStart(22, 'j'));
    const big = { v: 2 as const, kind: 'jti' as const, values, at: 10, exp: 20, reason: 'r' };
    await expect(signRevocationEvent(big, edKey, ISS)).rejects.toThrow(/bytes/);
    const jws = await rawSign(
      { ...big, iss: ISS },
      { alg: 'EdDSA', kid: 'ed-1', typ: 'authmesh-revocation+jwt' },
      ed.privateKey,
    );
    expect(jws.length).toBeGreaterThan(MAX_REVOCATION_EVENT_BYTES);
    await expect(verifyRevocationEvents(jws, store(), ISS)).rejects.toThrow();
    // Replayed, it would otherwise sit pending (failing closed) until its check dropped it.
    expect(peekRevocationValues(Buffer.from(jws))).toBeUndefined();
    // Just under the bound reads as usual.
    const fits = await signRevocationEvent({ ...big, values: values.slice(0, 400) }, edKey, ISS);
    expect(peekRevocationValues(Buffer.from(fits))).toHaveLength(400);
  });
});
