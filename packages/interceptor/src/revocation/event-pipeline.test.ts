import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KeyStore } from '../jwks/key-store.types.js';
import { signRevocationEvent } from './event.js';
import { EventPipeline } from './event-pipeline.js';
import { RevocationSet } from './revocation-set.js';
import { VerifyBudget } from './verify-budget.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const ISS = 'http://issuer.test';
const now = () => Math.floor(Date.now() / 1000);

/** A structurally valid event JWS signed by `kid`, with `padding` bytes in its reason. */
function event(padding: number, kid = 'unknown-kid'): string {
  const header = b64({ alg: 'EdDSA', kid, typ: 'authmesh-revocation+jwt' });
  const payload = b64({
    v: 1,
    kind: 'jti',
    value: 'j1',
    at: now(),
    exp: now() + 300,
    reason: 'x'.repeat(padding),
    iss: ISS,
  });
  return `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`;
}

const signer = generateKeyPairSync('ed25519');

/** A key store knowing k1 only, counting lookups (each lookup precedes one signature check). */
function keys(): KeyStore & { lookups: number } {
  const k1 = { kid: 'k1', alg: 'EdDSA', key: signer.publicKey };
  const store = {
    lookups: 0,
    get: (kid: string) => (kid === 'k1' ? k1 : undefined),
    resolve: (kid: string) => {
      store.lookups++;
      return Promise.resolve(kid === 'k1' ? k1 : undefined);
    },
    refresh: () => Promise.resolve(),
    remove: () => undefined,
    epoch: 1,
    ready: () => Promise.resolve(),
    close: () => undefined,
  };
  return store;
}

function pipeline(k: KeyStore, budget?: VerifyBudget, trustedEvent?: (jws: string) => boolean) {
  const set = new RevocationSet({ sweepIntervalMs: 0 });
  const p = new EventPipeline({
    keys: k,
    issuer: ISS,
    set,
    fetch: () => Promise.reject(new Error('no stream')),
    agedOut: () => false,
    holdUntil: () => now() + 600,
    ...(budget ? { budget } : {}),
    trustedEvent,
  });
  return { p, set };
}

describe('EventPipeline bounds what untrusted NATS traffic can make it do', () => {
  it('reports an event signed by an unknown key as unknown-kid (the feed parks it)', async () => {
    const { p } = pipeline(keys());
    expect(await p.eager(event(100), 'jti')).toBe('unknown-kid');
    expect(p.dropped).toBe(0);
  });

  it('drops an oversized stream event without looking at it', async () => {
    const k = keys();
    const { p } = pipeline(k);
    expect(await p.eager(event(512 * 1024), 'jti')).toBe('dropped');
    expect(k.lookups).toBe(0);
    expect(p.dropped).toBe(1);
  });

  it('ignores an oversized core message (never verified, never remembered)', () => {
    const k = keys();
    const { p } = pipeline(k);
    p.core('authmesh.revoked.jti', Buffer.from(event(512 * 1024), 'latin1'));
    expect(k.lookups).toBe(0);
  });

  it('verifies a forged event at most once, whether it comes on the core path, the stream, or again', async () => {
    const k = keys();
    const { p } = pipeline(k);
    const forged = event(10, 'k1'); // known kid, zero signature
    p.core('authmesh.revoked.jti', Buffer.from(forged, 'latin1'));
    expect(await p.eager(forged, 'jti')).toBe('dropped');
    expect(await p.eager(forged, 'jti')).toBe('dropped');
    expect(k.lookups).toBe(1);
    const genuine = await signRevocationEvent(
      { v: 1, kind: 'jti', value: 'g', at: now(), exp: now() + 60, reason: '' },
      { kid: 'k1', alg: 'EdDSA', privateKey: signer.privateKey },
      ISS,
    );
    expect(await p.eager(genuine, 'jti')).toBe('applied');
    expect(await p.eager(genuine, 'jti')).toBe('applied');
    expect(k.lookups).toBe(2);
  });

  it('turns a flood of forged events into throttled, counted work once the CPU budget is spent', async () => {
    const k = keys();
    const budget = new VerifyBudget(1, 0.001); // ~nothing to spend
    const { p } = pipeline(k, budget);
    p.core('authmesh.revoked.jti', Buffer.from(event(1, 'k1'), 'latin1'));
    // Its verdict, whichever thread checked it (the pool during a burst, possibly slower than any fixed
    // wait on a loaded machine): the same event's verification is shared, so this adds no lookup.
    expect(await p.eager(event(1, 'k1'), 'jti')).toBe('dropped');
    for (let i = 0; i < 100; i++) p.core('authmesh.revoked.jti', Buffer.from(event(i + 2, 'k1'), 'latin1'));
    expect(k.lookups).toBe(1);
    expect(budget.throttled).toBe(100);
  });
});

describe('EventPipeline with trustedEvent (the auth service skipping checks of events it published)', () => {
  const sign = (value: string) =>
    signRevocationEvent(
      { v: 1, kind: 'jti', value, at: now(), exp: now() + 60, reason: '' },
      { kid: 'k1', alg: 'EdDSA', privateKey: signer.privateKey },
      ISS,
    );

  it('applies an event it was told is its own without a signature check', async () => {
    const k = keys();
    const own = await sign('mine');
    const { p, set } = pipeline(k, undefined, (jws) => jws === own);
    expect(await p.eager(own, 'jti')).toBe('applied');
    expect(k.lookups).toBe(0);
    expect(set.has('jti', 'mine')).toBe(true);
  });

  it('still verifies and refuses anything else, a forgery carrying a real event signature included', async () => {
    const k = keys();
    const own = await sign('mine');
    const [header, , signature] = own.split('.');
    const payload = b64({
      v: 1,
      kind: 'jti',
      value: 'victim',
      at: now(),
      exp: now() + 60,
      reason: '',
      iss: ISS,
    });
    const forged = `${header}.${payload}.${signature}`;
    const trusted = new Set([own]);
    const { p, set } = pipeline(k, undefined, (jws) => trusted.has(jws));
    p.core('authmesh.revoked.jti', Buffer.from(forged, 'latin1'));
    expect(await p.eager(forged, 'jti')).toBe('dropped');
    expect(k.lookups).toBe(1);
    expect(set.has('jti', 'victim')).toBe(false);
  });

  it('still checks the claims of its own events (an unchecked signature is no unchecked content)', async () => {
    const k = keys();
    const own = await sign('mine');
    const { p } = pipeline(k, undefined, () => true);
    // Published on the sid subject, the jti event does not apply there.
    expect(await p.eager(own, 'sid')).toBe('dropped');
  });
});
