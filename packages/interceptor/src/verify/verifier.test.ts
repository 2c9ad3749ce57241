import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { createKeyStore } from '../jwks/key-store.js';
import type { KeyStore } from '../jwks/key-store.types.js';
import { isAuthError } from '../errors.js';
import {
  AUDIENCE,
  ISSUER,
  jwksSource,
  makeKey,
  signRaw,
  signToken,
  type TestKey,
} from '../server/fixtures.test.js';
import { createVerifier, type Verifier } from './verifier.js';

let ed: TestKey;
let es: TestKey;
let other: TestKey;
let keys: KeyStore;
let verify: Verifier;

beforeAll(async () => {
  ed = await makeKey('EdDSA', 'ed');
  es = await makeKey('ES256', 'es');
  other = await makeKey('EdDSA', 'ed'); // same kid, different key: a forgery
  keys = createKeyStore(jwksSource([ed, es]).source, {
    algorithms: ['EdDSA', 'ES256'],
    refreshCooldownMs: 60_000,
  });
  await keys.ready();
  verify = createVerifier({
    keys,
    issuer: ISSUER,
    audiences: [AUDIENCE],
    algorithms: ['EdDSA', 'ES256'],
    clockToleranceSec: 5,
    maxTokenBytes: 8192,
  });
});
afterEach(() => vi.useRealTimers());

async function codeOf(token: string, v: Verifier = verify): Promise<string> {
  try {
    await v(token);
    return 'OK';
  } catch (err) {
    expect(isAuthError(err)).toBe(true);
    const e = err as Error & { code: string };
    expect(e.message).not.toContain(token); // never echo the token
    return e.code;
  }
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
/** The claims of a good token, for signRaw. */
const claims = async (): Promise<Record<string, unknown>> => {
  const t = await signToken(ed);
  return JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
};
const now = (): number => Math.floor(Date.now() / 1000);

describe('createVerifier', () => {
  it('accepts a good EdDSA and ES256 token and builds the principal', async () => {
    const { principal, key } = await verify(
      await signToken(ed, { scope: 'a b', roles: ['r'], act: { sub: 'svc', act: { sub: 'svc2' } } }),
    );
    expect(key.kid).toBe('ed');
    expect(principal).toMatchObject({
      sub: 'alice',
      clientId: 'cli',
      kid: 'ed',
      sid: 'sess-1',
      aud: ['echo'],
      act: { sub: 'svc', act: { sub: 'svc2' } },
    });
    expect([...principal.scopes]).toEqual(['a', 'b']);
    expect(Object.isFrozen(principal) && Object.isFrozen(principal.claims)).toBe(true);
    expect(await codeOf(await signToken(es))).toBe('OK');
  });

  it('accepts typ "application/at+jwt" in any case and an aud array containing ours', async () => {
    expect(await codeOf(await signToken(ed, { aud: ['other', 'echo'] }, { typ: 'Application/AT+JWT' }))).toBe(
      'OK',
    );
  });

  const cases: [string, () => Promise<string>, string][] = [
    ['not a JWS', async () => 'abc', 'ERR_TOKEN_MALFORMED'],
    [
      'garbage header',
      async () => `${Buffer.from('{x').toString('base64url')}.e30.AAAA`,
      'ERR_TOKEN_MALFORMED',
    ],
    ['too large', async () => signToken(ed, { pad: 'x'.repeat(9000) }), 'ERR_TOKEN_MALFORMED'],
    [
      'alg none',
      async () => `${b64({ alg: 'none', typ: 'at+jwt', kid: 'ed' })}.${b64({ sub: 'x' })}.AAAA`,
      'ERR_TOKEN_ALG',
    ],
    [
      'alg HS256 (key confusion)',
      async () => `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'ed' })}.${b64({ sub: 'x' })}.AAAA`,
      'ERR_TOKEN_ALG',
    ],
    ['header alg differs from the key', async () => signToken(es, {}, { kid: 'ed' }), 'ERR_TOKEN_ALG'],
    ['typ missing', async () => signToken(ed, {}, { typ: undefined }), 'ERR_TOKEN_TYP'],
    ['typ JWT', async () => signToken(ed, {}, { typ: 'JWT' }), 'ERR_TOKEN_TYP'],
    [
      'a revocation event',
      async () => signToken(ed, {}, { typ: 'authmesh-revocation+jwt' }),
      'ERR_TOKEN_TYP',
    ],
    [
      'jwk header',
      async () => signToken(ed, {}, { jwk: { kty: 'OKP', crv: 'Ed25519', x: ed.jwk.x } }),
      'ERR_TOKEN_MALFORMED',
    ],
    ['jku header', async () => signToken(ed, {}, { jku: 'https://evil.test/jwks' }), 'ERR_TOKEN_MALFORMED'],
    ['x5u header', async () => signToken(ed, {}, { x5u: 'https://evil.test/cert' }), 'ERR_TOKEN_MALFORMED'],
    ['x5c header', async () => signToken(ed, {}, { x5c: ['MIIB'] }), 'ERR_TOKEN_MALFORMED'],
    [
      'unknown crit',
      async () =>
        signRaw(ed, { alg: 'EdDSA', kid: 'ed', typ: 'at+jwt', crit: ['urn:x'], 'urn:x': 1 }, await claims()),
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'b64 false',
      async () =>
        signRaw(ed, { alg: 'EdDSA', kid: 'ed', typ: 'at+jwt', b64: false, crit: ['b64'] }, await claims()),
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'a non-canonical base64url spelling of a valid token',
      async () => {
        const t = await signToken(ed);
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(t.at(-1)!); // Ed25519: 86 chars, the low 4 bits of the last are padding
        return t.slice(0, -1) + alphabet[last | 1];
      },
      'ERR_TOKEN_MALFORMED',
    ],
    [
      'raw control token (signRaw itself works)',
      async () => signRaw(ed, { alg: 'EdDSA', kid: 'ed', typ: 'at+jwt' }, await claims()),
      'OK',
    ],
    ['kid missing', async () => signToken(ed, {}, { kid: undefined }), 'ERR_TOKEN_MALFORMED'],
    ['unknown kid', async () => signToken(ed, {}, { kid: 'nope' }), 'ERR_KEY_UNKNOWN'],
    ['bad signature', async () => signToken(other), 'ERR_TOKEN_SIGNATURE'],
    [
      'tampered payload',
      async () => {
        const [h, , s] = (await signToken(ed)).split('.');
        return `${h}.${b64({ sub: 'mallory' })}.${s}`;
      },
      'ERR_TOKEN_SIGNATURE',
    ],
    ['wrong issuer', async () => signToken(ed, { iss: 'https://evil.test' }), 'ERR_TOKEN_ISSUER'],
    ['wrong audience', async () => signToken(ed, { aud: 'billing' }), 'ERR_TOKEN_AUDIENCE'],
    ['empty audience array', async () => signToken(ed, { aud: [] }), 'ERR_TOKEN_AUDIENCE'],
    ['no audience', async () => signToken(ed, { aud: undefined }), 'ERR_TOKEN_AUDIENCE'],
    [
      'expired beyond tolerance',
      async () => signToken(ed, { exp: now() - 6, iat: now() - 60 }),
      'ERR_TOKEN_EXPIRED',
    ],
    ['nbf in the future', async () => signToken(ed, { nbf: now() + 60 }), 'ERR_TOKEN_NOT_YET_VALID'],
    ['iat in the future', async () => signToken(ed, { iat: now() + 60 }), 'ERR_TOKEN_NOT_YET_VALID'],
    ['exp missing', async () => signToken(ed, { exp: undefined }), 'ERR_TOKEN_CLAIMS'],
    ['iat missing', async () => signToken(ed, { iat: undefined }), 'ERR_TOKEN_CLAIMS'],
    ['jti missing', async () => signToken(ed, { jti: undefined }), 'ERR_TOKEN_CLAIMS'],
    ['sub missing', async () => signToken(ed, { sub: undefined }), 'ERR_TOKEN_CLAIMS'],
    ['client_id missing', async () => signToken(ed, { client_id: undefined }), 'ERR_TOKEN_CLAIMS'],
    ['exp a string', async () => signToken(ed, { exp: String(now() + 60) }), 'ERR_TOKEN_CLAIMS'],
    ['roles not strings', async () => signToken(ed, { roles: [1] }), 'ERR_TOKEN_CLAIMS'],
    ['act without sub', async () => signToken(ed, { act: { act: { sub: 'x' } } }), 'ERR_TOKEN_CLAIMS'],
  ];
  it.each(cases)('rejects %s', async (_name, make, code) => {
    expect(await codeOf(await make())).toBe(code);
  });

  it('tolerates clock skew up to clockToleranceSec on exp and nbf', async () => {
    expect(await codeOf(await signToken(ed, { exp: now() - 3, iat: now() - 60 }))).toBe('OK');
    expect(await codeOf(await signToken(ed, { nbf: now() + 3 }))).toBe('OK');
  });

  it('expires exactly at exp + tolerance with a frozen clock', async () => {
    const t0 = 1_900_000_000;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(t0 * 1000);
    const token = await signToken(ed, { iat: t0, nbf: t0, exp: t0 + 60 });
    vi.setSystemTime((t0 + 64.9) * 1000);
    expect(await codeOf(token)).toBe('OK');
    vi.setSystemTime((t0 + 65) * 1000);
    expect(await codeOf(token)).toBe('ERR_TOKEN_EXPIRED');
  });

  it('honours its algorithm allowlist even for a known key', async () => {
    const edOnly = createVerifier({
      keys,
      issuer: ISSUER,
      audiences: [AUDIENCE],
      algorithms: ['EdDSA'],
      clockToleranceSec: 0,
      maxTokenBytes: 8192,
    });
    expect(await codeOf(await signToken(es), edOnly)).toBe('ERR_TOKEN_ALG');
  });

  it('skips the audience check only when asked (anyAudience) or configured (audiences undefined)', async () => {
    const token = await signToken(ed, { aud: 'billing' });
    await expect(verify(token, { anyAudience: true })).resolves.toBeDefined();
    const any = createVerifier({
      keys,
      issuer: ISSUER,
      audiences: undefined,
      algorithms: ['EdDSA'],
      clockToleranceSec: 0,
      maxTokenBytes: 8192,
    });
    expect(await codeOf(token, any)).toBe('OK');
  });

  it('rejects an HS256 token signed with the public key bytes (RFC 8725 §2.1)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(ed.jwk));
    const token = await new SignJWT({ sub: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: 'ed', typ: 'at+jwt' })
      .sign(secret);
    expect(await codeOf(token)).toBe('ERR_TOKEN_ALG');
  });

  it('never needs the network for a key it does not know more than once per cooldown', async () => {
    const src = jwksSource([ed]);
    const ks = createKeyStore(src.source, { refreshCooldownMs: 60_000 });
    await ks.ready();
    const v = createVerifier({
      keys: ks,
      issuer: ISSUER,
      audiences: [AUDIENCE],
      algorithms: ['EdDSA'],
      clockToleranceSec: 0,
      maxTokenBytes: 8192,
    });
    for (let i = 0; i < 20; i++)
      expect(await codeOf(await signToken(ed, {}, { kid: `random-${i}` }), v)).toBe('ERR_KEY_UNKNOWN');
    expect(src.calls).toBe(1);
    ks.close();
  });
});
