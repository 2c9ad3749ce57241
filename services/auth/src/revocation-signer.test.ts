import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createKeyStore,
  signRevocationEvent,
  verifyRevocationEvent,
  type RevocationEventClaims,
} from '@authmesh/interceptor';
import { signEvent } from './revocation-signer.js';

const ISS = 'http://auth.test';
const claims: RevocationEventClaims = {
  v: 1,
  kind: 'sub',
  value: 'alice ✓',
  at: 1_700_000_000,
  exp: 1_700_000_900,
  reason: 'incident',
};

describe('signEvent', () => {
  const ed = generateKeyPairSync('ed25519');
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const edKey = { kid: 'ed-1', alg: 'EdDSA', privateKey: ed.privateKey };
  const ecKey = { kid: 'ec-1', alg: 'ES256', privateKey: ec.privateKey };
  const keyStore = createKeyStore(async () => ({
    keys: [
      { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1', alg: 'EdDSA', use: 'sig' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  }));

  it('signs EdDSA events exactly as the interceptor signer does (Ed25519 is deterministic)', async () => {
    expect(await signEvent(claims, edKey, ISS)).toBe(await signRevocationEvent(claims, edKey, ISS));
  });

  it('events it signs verify, with either algorithm; a changed payload does not', async () => {
    for (const key of [edKey, ecKey]) {
      const jws = await signEvent(claims, key, ISS);
      await expect(verifyRevocationEvent(jws, keyStore, ISS)).resolves.toEqual(claims);
      const [h, , s] = jws.split('.');
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, value: 'bob', iss: ISS })).toString('base64url')}.${s}`;
      await expect(verifyRevocationEvent(forged, keyStore, ISS)).rejects.toMatchObject({
        code: 'ERR_EVENT_SIGNATURE',
      });
    }
  });
});
