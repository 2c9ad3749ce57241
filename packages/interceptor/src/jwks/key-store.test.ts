import { afterEach, describe, expect, it, vi } from 'vitest';
import { jwksSource, makeKey } from '../server/fixtures.test.js';
import { createKeyStore } from './key-store.js';
import type { KeyStore } from './key-store.types.js';

const quiet = { warn: () => undefined };
const stores: KeyStore[] = [];
const track = (ks: KeyStore): KeyStore => (stores.push(ks), ks);
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  vi.useRealTimers();
});

describe('createKeyStore', () => {
  it('imports keys once into KeyObjects and serves them by kid', async () => {
    const a = await makeKey('EdDSA', 'a');
    const b = await makeKey('ES256', 'b');
    const ks = track(createKeyStore(jwksSource([a, b]).source));
    await ks.ready();
    expect(ks.get('a')).toMatchObject({ kid: 'a', alg: 'EdDSA' });
    expect(ks.get('a')?.key.type).toBe('public');
    expect(ks.get('a')?.key.asymmetricKeyType).toBe('ed25519');
    expect(ks.get('b')?.alg).toBe('ES256');
    expect(ks.epoch).toBe(1);
  });

  it('only accepts keys whose kty/crv/alg fit the allowlist', async () => {
    const ed = await makeKey('EdDSA', 'ed');
    const es = await makeKey('ES256', 'es');
    const es384 = await makeKey('ES384', 'es384');
    const lying = { ...es, kid: 'lying', jwk: { ...es.jwk, kid: 'lying', alg: 'EdDSA' } }; // EC key claiming EdDSA
    const enc = { ...ed, kid: 'enc', jwk: { ...ed.jwk, kid: 'enc', use: 'enc' } };
    const noAlg = { ...ed, kid: 'noalg', jwk: { ...ed.jwk, kid: 'noalg', alg: undefined } };
    const hmac = {
      kid: 'hs',
      alg: 'HS256',
      privateKey: ed.privateKey,
      jwk: { kty: 'oct', k: 'c2VjcmV0', kid: 'hs', alg: 'HS256' },
    };
    const ks = track(
      createKeyStore(jwksSource([ed, es, es384, lying, enc, noAlg, hmac]).source, { algorithms: ['EdDSA'] }),
    );
    await ks.ready();
    expect(['ed', 'es', 'es384', 'lying', 'enc', 'noalg', 'hs'].filter((k) => ks.get(k))).toEqual([
      'ed',
      'noalg',
    ]);
  });

  it('never holds a private key, even when the JWKS leaks one', async () => {
    const { exportJWK } = await import('jose');
    const k = await makeKey('EdDSA', 'p');
    const leaked = { ...k, jwk: { ...(await exportJWK(k.privateKey)), kid: 'p', alg: 'EdDSA' } };
    const ks = track(createKeyStore(jwksSource([leaked]).source));
    await ks.ready();
    expect(ks.get('p')?.key.type).toBe('public');
  });

  it('ready() waits through failures, retrying with backoff', async () => {
    const src = jwksSource([await makeKey('EdDSA', 'a')]);
    src.fail = true;
    const ks = track(createKeyStore(src.source, { retryInitialMs: 10, retryMaxMs: 20, logger: quiet }));
    let ready = false;
    void ks.ready().then(() => (ready = true));
    await new Promise((r) => setTimeout(r, 60));
    expect(ready).toBe(false);
    expect(src.calls).toBeGreaterThanOrEqual(3);
    expect(src.calls).toBeLessThan(10); // backoff, not a busy loop
    src.fail = false;
    await ks.ready();
    expect(ks.get('a')).toBeDefined();
  });

  it('refreshes on an unknown kid at most once per cooldown', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const a = await makeKey('EdDSA', 'a');
    const src = jwksSource([a]);
    const ks = track(createKeyStore(src.source, { refreshCooldownMs: 5000 }));
    await ks.ready();
    expect(src.calls).toBe(1);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => ks.resolve(`random-${i}`)));
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(src.calls).toBe(1); // the first load was just now: cooldown holds
    vi.setSystemTime(Date.now() + 5001);
    src.keys.push(await makeKey('EdDSA', 'new'));
    await Promise.all([ks.resolve('new'), ks.resolve('new'), ks.resolve('other')]);
    expect(src.calls).toBe(2); // single flight
    expect(ks.get('new')).toBeDefined();
    expect(await ks.resolve('yet-another')).toBeUndefined();
    expect(src.calls).toBe(2);
  });

  it('keeps the last good set when the source fails, and bumps epoch only on change', async () => {
    const a = await makeKey('EdDSA', 'a');
    const src = jwksSource([a]);
    const ks = track(createKeyStore(src.source, { logger: quiet }));
    await ks.ready();
    const before = ks.get('a');
    await ks.refresh();
    expect(ks.epoch).toBe(1);
    expect(ks.get('a')).toBe(before); // same key, same object
    src.fail = true;
    await ks.refresh();
    expect(ks.get('a')).toBe(before);
    src.fail = false;
    src.keys = [];
    await ks.refresh(); // an empty set is treated as a failure, not as "trust nothing"
    expect(ks.get('a')).toBe(before);
    src.keys = [await makeKey('EdDSA', 'b')];
    await ks.refresh();
    expect(ks.get('a')).toBeUndefined();
    expect(ks.get('b')).toBeDefined();
    expect(ks.epoch).toBe(2);
  });

  it('remove(kid) forgets a key at once and never re-imports it', async () => {
    const a = await makeKey('EdDSA', 'a');
    const b = await makeKey('EdDSA', 'b');
    const src = jwksSource([a, b]);
    const ks = track(createKeyStore(src.source, { refreshCooldownMs: 0 }));
    await ks.ready();
    ks.remove('a');
    expect(ks.get('a')).toBeUndefined();
    expect(ks.epoch).toBe(2);
    await ks.refresh();
    expect(await ks.resolve('a')).toBeUndefined();
    expect(ks.get('b')).toBeDefined();
  });

  it('names the bad option', () => {
    const src = async () => ({ keys: [] });
    expect(() => createKeyStore(src, { algorithms: ['HS256'] })).toThrow(/^algorithms: /);
    expect(() => createKeyStore(src, { algorithms: [] })).toThrow(/^algorithms: /);
    expect(() => createKeyStore(src, { refreshCooldownMs: -1 })).toThrow(/^refreshCooldownMs: /);
    expect(() => createKeyStore(src, { retryMaxMs: Number.NaN })).toThrow(/^retryMaxMs: /);
    expect(() => createKeyStore('x' as never)).toThrow(/^source: /);
  });
});
