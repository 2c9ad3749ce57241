import { describe, expect, it } from 'vitest';
import type { KeyStore } from '../jwks/key-store.types.js';
import { EventPipeline } from './event-pipeline.js';
import { RevocationSet } from './revocation-set.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A structurally valid event JWS signed by a kid nobody knows, with `padding` bytes in its reason. */
function unknownKeyEvent(padding: number): string {
  const header = b64({ alg: 'EdDSA', kid: 'unknown-kid', typ: 'authmesh-revocation+jwt' });
  const now = Math.floor(Date.now() / 1000);
  const payload = b64({
    v: 1,
    kind: 'jti',
    value: 'j1',
    at: now,
    exp: now + 300,
    reason: 'x'.repeat(padding),
    iss: 'http://issuer.test',
  });
  return `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`;
}

/** A key store that knows no key, counting how often verification started. */
function emptyKeys(): KeyStore & { readyCalls: number } {
  const keys = {
    readyCalls: 0,
    get: () => undefined,
    resolve: () => Promise.resolve(undefined),
    refresh: () => Promise.resolve(),
    remove: () => undefined,
    epoch: 1,
    ready() {
      keys.readyCalls++;
      return Promise.resolve();
    },
    close: () => undefined,
  };
  return keys;
}

function pipeline(keys: KeyStore) {
  const set = new RevocationSet({ sweepIntervalMs: 0 });
  const processed: number[] = [];
  const p = new EventPipeline({
    keys,
    issuer: 'http://issuer.test',
    set,
    fetch: () => Promise.reject(new Error('no stream')),
    onProcessed: (seq) => processed.push(seq),
  });
  return { p, processed };
}

describe('EventPipeline bounds what untrusted NATS traffic can make it hold', () => {
  it('parks a normal-sized event signed by an unknown key (it may be a fresh key)', async () => {
    const { p, processed } = pipeline(emptyKeys());
    p.eager(unknownKeyEvent(100), 1, 'jti');
    await vi_waitFor(() => processed.length === 1);
    expect(p.parkedCount).toBe(1);
  });

  it('drops an oversized stream event instead of parking it', async () => {
    const { p, processed } = pipeline(emptyKeys());
    p.eager(unknownKeyEvent(512 * 1024), 1, 'jti');
    await vi_waitFor(() => processed.length === 1);
    expect(p.parkedCount).toBe(0);
    expect(p.dropped).toBe(1);
  });

  it('ignores an oversized core message (never verified, never remembered)', () => {
    const keys = emptyKeys();
    const { p } = pipeline(keys);
    p.core('authmesh.revoked.jti', Buffer.from(unknownKeyEvent(512 * 1024), 'latin1'));
    expect(keys.readyCalls).toBe(0);
    p.core('authmesh.revoked.jti', Buffer.from(unknownKeyEvent(100), 'latin1'));
    expect(keys.readyCalls).toBe(1);
  });
});

async function vi_waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
}
