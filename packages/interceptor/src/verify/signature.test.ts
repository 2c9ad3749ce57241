import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyCompactSignature, verifyCompactSignatureAsync } from './signature.js';

/** A compact JWS over `payload` (the header's content does not matter here, only the signature). */
function jws(alg: 'EdDSA' | 'ES256', privateKey: Parameters<typeof sign>[2], payload = 'eyJhIjoxfQ'): string {
  const input = `eyJhbGciOiJ4In0.${payload}`;
  const sig =
    alg === 'EdDSA'
      ? sign(null, Buffer.from(input), privateKey)
      : sign('sha256', Buffer.from(input), { key: privateKey as never, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

describe('verifyCompactSignatureAsync', () => {
  it('gives the same verdict as the synchronous check: good, tampered, wrong key, garbage', async () => {
    const ed = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const good = jws('EdDSA', ed.privateKey);
    const tampered = good.replace('eyJhIjoxfQ', 'eyJhIjoyfQ');
    const cases: [string, typeof ed.publicKey, boolean][] = [
      [good, ed.publicKey, true],
      [tampered, ed.publicKey, false],
      [good, other.publicKey, false],
      [`${good.slice(0, good.lastIndexOf('.'))}.AAAA`, ed.publicKey, false],
      // Bytes after a good signature, a little or far past any buffer: never cut back to the good one.
      [`${good}AAAA`, ed.publicKey, false],
      [`${good}${'A'.repeat(4096)}`, ed.publicKey, false],
      // Longer and shorter signing inputs one after the other (a reused buffer must hold no stale bytes).
      [jws('EdDSA', ed.privateKey, 'eyJhIjoxfQ'.repeat(300)), ed.publicKey, true],
      [good, ed.publicKey, true],
    ];
    for (const [token, key, expected] of cases) {
      const lastDot = token.lastIndexOf('.');
      expect(verifyCompactSignature('EdDSA', key, token, lastDot)).toBe(expected);
      expect(await verifyCompactSignatureAsync('EdDSA', key, token, lastDot)).toBe(expected);
    }
    expect(await verifyCompactSignatureAsync('none', ed.publicKey, good, good.lastIndexOf('.'))).toBe(false);
  });

  it('refuses the high-S twin of a good ES256 signature, as the synchronous check does', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    for (let i = 0; i < 8; i++) {
      const token = jws('ES256', ec.privateKey, `eyJpIjo${i}fQ`);
      const dot = token.lastIndexOf('.');
      const sig = Buffer.from(token.slice(dot + 1), 'base64url');
      const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
      const flipped = Buffer.concat([
        sig.subarray(0, 32),
        Buffer.from((n - s).toString(16).padStart(64, '0'), 'hex'),
      ]);
      const low = s <= n / 2n ? token : `${token.slice(0, dot)}.${flipped.toString('base64url')}`;
      const high = s <= n / 2n ? `${token.slice(0, dot)}.${flipped.toString('base64url')}` : token;
      expect(await verifyCompactSignatureAsync('ES256', ec.publicKey, low, dot)).toBe(true);
      expect(await verifyCompactSignatureAsync('ES256', ec.publicKey, high, dot)).toBe(false);
    }
  });
});
