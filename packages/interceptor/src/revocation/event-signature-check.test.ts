import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { CompactSign } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import { verifyRevocationEvent } from './event.js';

// Counts the signature checks that reach node:crypto, on either thread.
const checks = vi.hoisted(() => ({ n: 0 }));
vi.mock('../verify/signature.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../verify/signature.js')>();
  return {
    ...real,
    verifyCompactSignature: (...args: Parameters<typeof real.verifyCompactSignature>) => {
      checks.n++;
      return real.verifyCompactSignature(...args);
    },
    verifyCompactSignatureAsync: (...args: Parameters<typeof real.verifyCompactSignatureAsync>) => {
      checks.n++;
      return real.verifyCompactSignatureAsync(...args);
    },
  };
});

const ISS = 'http://issuer.test';
const ed = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function keyStore(key: VerificationKey): KeyStore {
  return {
    epoch: 0,
    get: (kid) => (kid === key.kid ? key : undefined),
    resolve: async (kid) => (kid === key.kid ? key : undefined),
    refresh: async () => {},
    remove: () => {},
    ready: async () => {},
    close: () => {},
  };
}
/** A key store of its own, with its own key object for `publicKey` (as each feed's JWKS fetch makes). */
const ownStore = (publicKey: typeof ed.publicKey, kid = 'k1') =>
  keyStore({
    kid,
    alg: 'EdDSA',
    key: createPublicKey({ key: publicKey.export({ format: 'jwk' }), format: 'jwk' }),
  });

const sign = (value: string, key = ed.privateKey, kid = 'k1') =>
  new CompactSign(
    new TextEncoder().encode(
      JSON.stringify({
        v: 1,
        kind: 'jti',
        value,
        at: 1_800_000_000,
        exp: 1_800_000_300,
        reason: 'r',
        iss: ISS,
      }),
    ),
  )
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'authmesh-revocation+jwt' })
    .sign(key);

describe('revocation event signature checks in one process', () => {
  it('ten feeds with key stores of their own check one event once; another event or another key is checked anew', async () => {
    const jws = await sign(`once-${Date.now()}`);
    const stores = Array.from({ length: 10 }, () => ownStore(ed.publicKey));
    checks.n = 0;
    const verdicts = await Promise.all(stores.map((s) => verifyRevocationEvent(jws, s, ISS)));
    expect(verdicts.every((c) => c.value === verdicts[0]!.value)).toBe(true);
    expect(checks.n).toBe(1);

    await verifyRevocationEvent(await sign(`twice-${Date.now()}`), stores[0]!, ISS);
    expect(checks.n).toBe(2);

    // The same event under another public key (another issuer's store with the same kid): its own
    // check, and a shared verdict never lets it through.
    const stranger = ownStore(other.publicKey);
    await expect(verifyRevocationEvent(jws, stranger, ISS)).rejects.toMatchObject({
      code: 'ERR_EVENT_SIGNATURE',
    });
    expect(checks.n).toBe(3);
    await expect(verifyRevocationEvent(jws, ownStore(other.publicKey), ISS)).rejects.toMatchObject({
      code: 'ERR_EVENT_SIGNATURE',
    });
    expect(checks.n).toBe(3);
  });

  it('a forged event is refused by every feed, checked once', async () => {
    const forged = await sign(`forged-${Date.now()}`, other.privateKey);
    checks.n = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => verifyRevocationEvent(forged, ownStore(ed.publicKey), ISS)),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(checks.n).toBe(1);
  });
});
