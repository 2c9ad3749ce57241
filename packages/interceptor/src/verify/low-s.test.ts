import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyStore } from '../jwks/key-store.js';
import {
  AUDIENCE,
  FakeFeed,
  ISSUER,
  bearer,
  jwksSource,
  makeKey,
  signToken,
  startHarness,
  unary,
  type Harness,
  type TestKey,
} from '../server/fixtures.test.js';
import { isLowS, toLowS } from './low-s.js';
import { createVerifier } from './verifier.js';

/** The order of P-256's base point. */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const hex32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const scalar = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex')}`);

/** The other valid encoding of an ES256 token's signature: (r, n − s). */
function twin(token: string): string {
  const dot = token.lastIndexOf('.');
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  hex32(N - scalar(sig.subarray(32))).copy(sig, 32);
  return `${token.slice(0, dot + 1)}${sig.toString('base64url')}`;
}

let es: TestKey;
let h: Harness;

beforeAll(async () => {
  es = await makeKey('ES256', 'es');
  h = await startHarness({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { source: jwksSource([es]).source },
    revocations: { feed: new FakeFeed() },
    algorithms: ['ES256'],
  });
});
afterAll(async () => h?.stop());

describe('ES256 low-S', () => {
  it('refuses the high-S twin of a genuine ES256 token: UNAUTHENTICATED over gRPC', async () => {
    const token = await signToken(es); // the fixture signs low-S, as the auth service does
    const forged = twin(token);
    expect(forged).not.toBe(token);
    const whoAmI = (md: grpc.Metadata) => unary<{ sub: string }>((m, cb) => h.echo.WhoAmI({}, m, cb), md);
    expect((await whoAmI(bearer(token))).code).toBe(grpc.status.OK);
    expect((await whoAmI(bearer(forged))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(h.rejected.at(-1)?.code).toBe('ERR_TOKEN_SIGNATURE');
  });

  it('refuses it in the verifier too, whichever of the two the signer produced', async () => {
    const keys = createKeyStore(jwksSource([es]).source, { algorithms: ['ES256'] });
    await keys.ready();
    const verify = createVerifier({
      keys,
      issuer: ISSUER,
      audiences: [AUDIENCE],
      algorithms: ['ES256'],
      clockToleranceSec: 0,
      maxTokenBytes: 8192,
    });
    const outcome = (t: string) =>
      verify(t).then(
        () => 'OK',
        (err: { code?: string }) => err.code,
      );
    for (let i = 0; i < 8; i++) {
      const token = await signToken(es, { jti: `t${i}` });
      expect(await outcome(token)).toBe('OK');
      expect(await outcome(twin(token))).toBe('ERR_TOKEN_SIGNATURE');
    }
    keys.close();
  });

  it('isLowS compares s with n/2 exactly (boundaries and random values against BigInt)', () => {
    const half = N >> 1n;
    const sig = (s: bigint) => Buffer.concat([randomBytes(32), hex32(s)]);
    expect(isLowS(sig(half))).toBe(true);
    expect(isLowS(sig(half + 1n))).toBe(false);
    expect(isLowS(sig(half - 1n))).toBe(true);
    expect(isLowS(sig(0n))).toBe(true);
    expect(isLowS(sig(N - 1n))).toBe(false);
    expect(isLowS(Buffer.alloc(63))).toBe(false);
    for (let i = 0; i < 2000; i++) {
      const s = scalar(randomBytes(32)) % N;
      // Values near n/2 too: top bytes equal to n/2's, the rest random.
      const near = (half & ~((1n << BigInt(8 * (i % 32))) - 1n)) | (s & ((1n << BigInt(8 * (i % 32))) - 1n));
      for (const v of [s, near]) {
        expect(isLowS(sig(v))).toBe(v <= half);
        const low = toLowS(sig(v));
        expect(scalar(low.subarray(32))).toBe(v <= half ? v : N - v);
      }
    }
  });
});
