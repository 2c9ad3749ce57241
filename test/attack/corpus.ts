// The attack corpus: one row per case, each with its source. A row either sends a token as
// `authorization: Bearer <token>` (`token`), or builds the metadata itself (`metadata`: list of
// [key, value] pairs, added in order). `expect: 'accept'` rows are positive controls; every other row
// must be answered UNAUTHENTICATED.
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  attackerKeys,
  b64,
  jws,
  nested,
  nonCanonicalSignature,
  signers,
  withSegment,
  type Signer,
} from './forge.js';

/** What the rows are built from: real tokens from the auth service and its real signing key. */
export interface Ctx {
  issuer: string;
  kid: string;
  /** Signs with the auth service's current key (EdDSA). */
  real: Signer;
  /** The real public key as PEM (SPKI), raw bytes and JWK JSON, for algorithm-confusion rows. */
  publicPem: string;
  publicRaw: Buffer;
  publicJwkJson: string;
  /** alice's access token (password grant, audience echo). */
  valid: string;
  /** A client-credentials token of svc (audience echo). */
  validB: string;
  /** alice's refresh token. */
  refresh: string;
  /** A revocation event JWS as published on AUTHMESH_REVOCATIONS. */
  revocationEvent: string;
  /** A real token whose jti was revoked (and the revocation applied). */
  revoked: string;
  /** A real token for the default audience (authmesh), not echo. */
  otherAudience: string;
}

/** One case. */
export interface Row {
  name: string;
  source: string;
  expect: 'reject' | 'accept';
  token?: (c: Ctx) => string;
  metadata?: (c: Ctx) => Array<[string, string | Buffer]>;
  /** Raw HTTP/2 headers, for what grpc-js refuses to send. */
  raw?: (c: Ctx) => Record<string, string | string[]>;
}

const now = () => Math.floor(Date.now() / 1000);
const jti = () => randomBytes(16).toString('base64url');
/** Genuine claims for echo; `extra` overrides, an `undefined` value removes the claim. */
const claims = (c: Ctx, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: c.issuer,
  sub: 'alice',
  aud: 'echo',
  exp: now() + 300,
  iat: now(),
  nbf: now(),
  jti: jti(),
  client_id: 'cli',
  scope: 'echo:read',
  roles: ['dev'],
  ...extra,
});
const header = (c: Ctx, extra: Record<string, unknown> = {}) => ({
  alg: 'EdDSA',
  kid: c.kid,
  typ: 'at+jwt',
  ...extra,
});
/** A token signed by the real key, genuine except for `h`/`p` overrides. */
const realTok = (c: Ctx, h: Record<string, unknown> = {}, p: Record<string, unknown> = {}) =>
  jws(header(c, h), claims(c, p), c.real);
const att = signers.ed(attackerKeys.ed.privateKey);
const pubJwk = (k: KeyObject) => k.export({ format: 'jwk' });

const R = (name: string, source: string, token: (c: Ctx) => string): Row => ({
  name,
  source,
  expect: 'reject',
  token,
});
const A = (name: string, source: string, token: (c: Ctx) => string): Row => ({
  name,
  source,
  expect: 'accept',
  token,
});
const M = (
  name: string,
  source: string,
  expect: Row['expect'],
  metadata: (c: Ctx) => Array<[string, string | Buffer]>,
): Row => ({
  name,
  source,
  expect,
  metadata,
});

const H = (name: string, source: string, raw: (c: Ctx) => Record<string, string | string[]>): Row => ({
  name,
  source,
  expect: 'reject',
  raw,
});

/** Positive controls: the suite cannot pass by rejecting everything. */
export const controls: Row[] = [
  A('real password-grant token', 'control', (c) => c.valid),
  A('real client-credentials token', 'control', (c) => c.validB),
  {
    name: 'real token over raw HTTP/2 (the raw sender works)',
    source: 'control',
    expect: 'accept',
    raw: (c) => ({ authorization: `Bearer ${c.valid}` }),
  },
  A('forged with the real key, all claims genuine (the forging machinery is right)', 'control', (c) =>
    realTok(c),
  ),
  A('typ "application/at+jwt"', 'RFC 9068 §4, RFC 7515 §4.1.9 (prefix may be omitted)', (c) =>
    realTok(c, { typ: 'application/at+jwt' }),
  ),
  A('typ "AT+JWT" (media types are case-insensitive)', 'RFC 9068 §4, RFC 7515 §4.1.9', (c) =>
    realTok(c, { typ: 'AT+JWT' }),
  ),
  A('aud array containing echo among others', 'RFC 7519 §4.1.3', (c) =>
    realTok(c, {}, { aud: ['other', 'echo'] }),
  ),
  A('nbf in the future within the 5 s tolerance', 'RFC 7519 §4.1.5 (clock skew)', (c) =>
    realTok(c, {}, { nbf: now() + 2 }),
  ),
  A('exp just past within the 5 s tolerance', 'RFC 7519 §4.1.4 (clock skew)', (c) =>
    realTok(c, {}, { exp: now() - 1 }),
  ),
  A(
    'duplicate header key, lexically last is the valid one',
    'RFC 7515 §4 (last duplicate wins, consistently)',
    (c) =>
      jws(`{"alg":"none","alg":"EdDSA","kid":${JSON.stringify(c.kid)},"typ":"at+jwt"}`, claims(c), c.real),
  ),
  A('header with a UTF-8 BOM, signed by the issuer', 'RFC 8259 §8.1 (a parser MAY ignore a BOM)', (c) =>
    jws(`\ufeff${JSON.stringify(header(c))}`, claims(c), c.real),
  ),
  M('lowercase "bearer" scheme', 'RFC 9110 §11.1 (scheme case-insensitive)', 'accept', (c) => [
    ['authorization', `bearer ${c.valid}`],
  ]),
  M('uppercase "BEARER" scheme', 'RFC 9110 §11.1', 'accept', (c) => [['authorization', `BEARER ${c.valid}`]]),
  M('two spaces after the scheme', 'RFC 6750 §2.1 (1*SP)', 'accept', (c) => [
    ['authorization', `Bearer  ${c.valid}`],
  ]),
];

const algConfusion: Row[] = [
  ...['none', 'None', 'NONE', 'nOnE', 'NoNe'].map((alg) =>
    R(`alg "${alg}", empty signature`, 'RFC 8725 §3.1, CVE-2015-9235 class', (c) =>
      jws(header(c, { alg }), claims(c), signers.none),
    ),
  ),
  R('alg "none" keeping a real signature', 'RFC 8725 §3.1', (c) =>
    withSegment(realTok(c, { alg: 'none' }), 2, realTok(c).split('.')[2]!),
  ),
  R('alg absent', 'RFC 7515 §4.1.1 (alg required)', (c) =>
    jws({ kid: c.kid, typ: 'at+jwt' }, claims(c), c.real),
  ),
  R('alg empty string', 'RFC 7515 §4.1.1', (c) => jws(header(c, { alg: '' }), claims(c), c.real)),
  R('alg as an array ["EdDSA"]', 'RFC 7515 §4.1.1 (a string)', (c) =>
    jws(header(c, { alg: ['EdDSA'] }), claims(c), c.real),
  ),
  R('alg as an object', 'RFC 7515 §4.1.1', (c) =>
    jws(header(c, { alg: { name: 'EdDSA' } }), claims(c), c.real),
  ),
  R('HS256 keyed with the public key PEM', 'RFC 8725 §2.1/§3.1, CVE-2016-10555 class', (c) =>
    jws(header(c, { alg: 'HS256' }), claims(c), signers.hs('sha256', c.publicPem)),
  ),
  R('HS384 keyed with the public key PEM', 'RFC 8725 §2.1', (c) =>
    jws(header(c, { alg: 'HS384' }), claims(c), signers.hs('sha384', c.publicPem)),
  ),
  R('HS512 keyed with the public key PEM', 'RFC 8725 §2.1', (c) =>
    jws(header(c, { alg: 'HS512' }), claims(c), signers.hs('sha512', c.publicPem)),
  ),
  R('HS256 keyed with the raw public key bytes', 'RFC 8725 §2.1', (c) =>
    jws(header(c, { alg: 'HS256' }), claims(c), signers.hs('sha256', c.publicRaw)),
  ),
  R('HS256 keyed with the public JWK JSON', 'RFC 8725 §2.1, CVE-2022-21449-era JWK confusion', (c) =>
    jws(header(c, { alg: 'HS256' }), claims(c), signers.hs('sha256', c.publicJwkJson)),
  ),
  R('HS256 keyed with the empty string', 'RFC 8725 §3.5 (weak keys)', (c) =>
    jws(header(c, { alg: 'HS256' }), claims(c), signers.hs('sha256', '')),
  ),
  R('HS256 keyed with the kid', 'kid-as-secret class', (c) =>
    jws(header(c, { alg: 'HS256' }), claims(c), signers.hs('sha256', c.kid)),
  ),
  R('RS256 (attacker RSA key) on the EdDSA kid', 'RFC 8725 §3.1', (c) =>
    jws(header(c, { alg: 'RS256' }), claims(c), signers.rs('sha256', attackerKeys.rsa.privateKey)),
  ),
  R('PS256 (attacker RSA key) on the EdDSA kid', 'RFC 8725 §3.1', (c) =>
    jws(header(c, { alg: 'PS256' }), claims(c), signers.ps('sha256', attackerKeys.rsa.privateKey)),
  ),
  R('ES256 (attacker P-256 key) on the EdDSA kid', 'RFC 8725 §3.1', (c) =>
    jws(header(c, { alg: 'ES256' }), claims(c), signers.es('sha256', attackerKeys.p256.privateKey)),
  ),
  R('ES512 (attacker P-521 key) on the EdDSA kid', 'RFC 8725 §3.1', (c) =>
    jws(header(c, { alg: 'ES512' }), claims(c), signers.es('sha512', attackerKeys.p521.privateKey)),
  ),
  R('ES256 with an all-zero signature (r = s = 0)', 'CVE-2022-21449 class (psychic signatures)', (c) =>
    jws(header(c, { alg: 'ES256' }), claims(c), () => Buffer.alloc(64)),
  ),
  R('EdDSA with an all-zero signature', 'CVE-2022-21449 class', (c) =>
    jws(header(c), claims(c), () => Buffer.alloc(64)),
  ),
  R('EdDSA signed by the attacker key, real kid', 'RFC 7515 §5.2 (signature)', (c) =>
    jws(header(c), claims(c), att),
  ),
  R('alg "Ed25519" signed by the attacker key', 'RFC 9864 (fully specified alg)', (c) =>
    jws(header(c, { alg: 'Ed25519' }), claims(c), att),
  ),
  R('alg "Ed448" (not allowed)', 'RFC 8725 §3.1 (allowlist)', (c) =>
    jws(header(c, { alg: 'Ed448' }), claims(c), att),
  ),
];

const smuggledKeys: Row[] = [
  R('jwk header with the attacker key (self-signed)', 'RFC 8725 §3.10, CVE-2018-0114 class', (c) =>
    jws(header(c, { jwk: pubJwk(attackerKeys.ed.publicKey) }), claims(c), att),
  ),
  R('jwk header, no kid', 'CVE-2018-0114 class', (c) =>
    jws({ alg: 'EdDSA', typ: 'at+jwt', jwk: pubJwk(attackerKeys.ed.publicKey) }, claims(c), att),
  ),
  R('jwk header on a token signed by the REAL key', 'RFC 8725 §3.10 (refused by presence)', (c) =>
    realTok(c, { jwk: pubJwk(attackerKeys.ed.publicKey) }),
  ),
  R('jku to an attacker URL', 'RFC 7515 §4.1.2, RFC 8725 §3.10', (c) =>
    jws(header(c, { jku: 'http://127.0.0.1:1/jwks.json' }), claims(c), att),
  ),
  R('jku on a token signed by the real key', 'RFC 7515 §4.1.2', (c) =>
    realTok(c, { jku: 'http://127.0.0.1:1/jwks.json' }),
  ),
  R('x5u to an attacker URL', 'RFC 7515 §4.1.5', (c) =>
    jws(header(c, { x5u: 'http://127.0.0.1:1/cert.pem' }), claims(c), att),
  ),
  R('x5c with an attacker certificate chain', 'RFC 7515 §4.1.6', (c) =>
    jws(
      header(c, {
        x5c: [attackerKeys.ed.publicKey.export({ format: 'der', type: 'spki' }).toString('base64')],
      }),
      claims(c),
      att,
    ),
  ),
  R('x5c on a token signed by the real key', 'RFC 7515 §4.1.6', (c) => realTok(c, { x5c: ['MIIB'] })),
];

const kids: Row[] = [
  R('kid path traversal, HMAC with empty key', 'kid injection class (CVE-2018-1000531 family)', () =>
    jws({ alg: 'HS256', kid: '../../../../../../dev/null', typ: 'at+jwt' }, {}, signers.hs('sha256', '')),
  ),
  R('kid path traversal, EdDSA attacker key', 'kid injection class', (c) =>
    jws(header(c, { kid: '../../../../etc/passwd' }), claims(c), att),
  ),
  R('kid SQL injection', 'kid injection class', (c) =>
    jws(header(c, { kid: "x' UNION SELECT 'secret' --" }), claims(c), att),
  ),
  R('kid command injection', 'kid injection class', (c) =>
    jws(header(c, { kid: '|id;`id`$(id)' }), claims(c), att),
  ),
  R('kid unknown (random)', 'RFC 7515 §4.1.4', (c) => jws(header(c, { kid: jti() }), claims(c), att)),
  R('kid unknown, signed by the real key', 'RFC 7515 §4.1.4', (c) => realTok(c, { kid: jti() })),
  R('kid empty string', 'RFC 7515 §4.1.4', (c) => realTok(c, { kid: '' })),
  R('kid absent', 'RFC 7515 §4.1.4 (we require it)', (c) => realTok(c, { kid: undefined })),
  R('kid number', 'RFC 7515 §4.1.4 (a string)', (c) => realTok(c, { kid: 1 })),
  R('kid null', 'RFC 7515 §4.1.4', (c) => realTok(c, { kid: null })),
  R('kid array of the real kid', 'RFC 7515 §4.1.4', (c) => realTok(c, { kid: [c.kid] })),
  R('kid object', 'RFC 7515 §4.1.4', (c) => realTok(c, { kid: { toString: c.kid } })),
  R('kid "__proto__"', 'prototype pollution class', (c) =>
    jws(header(c, { kid: '__proto__' }), claims(c), att),
  ),
  R('kid "constructor"', 'prototype pollution class', (c) =>
    jws(header(c, { kid: 'constructor' }), claims(c), att),
  ),
  R('kid of 2 KB', 'resource exhaustion', (c) => jws(header(c, { kid: 'k'.repeat(2048) }), claims(c), att)),
  R('kid with NUL and control characters', 'kid injection class', (c) =>
    jws(header(c, { kid: `${c.kid}\u0000\n` }), claims(c), att),
  ),
];

const headers: Row[] = [
  R('crit naming an unknown parameter', 'RFC 7515 §4.1.11', (c) =>
    realTok(c, { crit: ['x-unknown'], 'x-unknown': 1 }),
  ),
  R('crit naming a registered parameter (exp)', 'RFC 7515 §4.1.11 (must not list registered names)', (c) =>
    realTok(c, { crit: ['exp'] }),
  ),
  R('crit empty array', 'RFC 7515 §4.1.11 (empty list is invalid)', (c) => realTok(c, { crit: [] })),
  R('crit not an array', 'RFC 7515 §4.1.11', (c) => realTok(c, { crit: 'b64' })),
  R('b64:false with crit', 'RFC 7797 §3', (c) => realTok(c, { b64: false, crit: ['b64'] })),
  R('b64:false without crit', 'RFC 7797 §6', (c) => realTok(c, { b64: false })),
  R('b64:false, unencoded payload', 'RFC 7797 §5', (c) => {
    const h = b64(JSON.stringify(header(c, { b64: false, crit: ['b64'] })));
    const payload = JSON.stringify(claims(c));
    return `${h}.${payload}.${b64(c.real(Buffer.from(`${h}.${payload}`)))}`;
  }),
  R('typ "JWT"', 'RFC 9068 §4, RFC 8725 §3.11', (c) => realTok(c, { typ: 'JWT' })),
  R('typ absent', 'RFC 9068 §4', (c) => realTok(c, { typ: undefined })),
  R('typ "application/jwt"', 'RFC 9068 §4', (c) => realTok(c, { typ: 'application/jwt' })),
  R('typ "at+jwt " (trailing space)', 'RFC 9068 §4', (c) => realTok(c, { typ: 'at+jwt ' })),
  R('typ "at+jwt; charset=utf-8"', 'RFC 9068 §4 (exact media type)', (c) =>
    realTok(c, { typ: 'at+jwt; charset=utf-8' }),
  ),
  R('typ as an array', 'RFC 7515 §4.1.9', (c) => realTok(c, { typ: ['at+jwt'] })),
  R('typ of a revocation event (authmesh-revocation+jwt)', 'RFC 8725 §3.11 (explicit typing)', (c) =>
    realTok(c, { typ: 'authmesh-revocation+jwt' }),
  ),
  R('typ "dpop+jwt"', 'RFC 8725 §3.11', (c) => realTok(c, { typ: 'dpop+jwt' })),
  R('cty "JWT" (nested JWT)', 'RFC 7519 §5.2, RFC 8725 §2.8', (c) =>
    jws(header(c, { cty: 'JWT' }), c.valid, att),
  ),
  R('header is a JSON array', 'RFC 7515 §4', (c) => jws('[]', claims(c), c.real)),
  R('header is JSON null', 'RFC 7515 §4', (c) => jws('null', claims(c), c.real)),
  R('header is not JSON', 'RFC 7515 §5.2 step 3', (c) => jws('{alg:EdDSA}', claims(c), c.real)),
  R('header with a trailing comma', 'RFC 8259', (c) =>
    jws(`{"alg":"EdDSA","kid":${JSON.stringify(c.kid)},"typ":"at+jwt",}`, claims(c), c.real),
  ),
  R('header in invalid UTF-8', 'RFC 7515 §5.2', (c) => {
    const h = Buffer.concat([
      Buffer.from('{"alg":"EdDSA","kid":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(`","typ":"at+jwt"}`),
    ]);
    const input = `${b64(h)}.${b64(JSON.stringify(claims(c)))}`;
    return `${input}.${b64(c.real(Buffer.from(input)))}`;
  }),
  R('duplicate header key, lexically last is "none"', 'RFC 7515 §4 (parser differential)', (c) =>
    jws(
      `{"alg":"EdDSA","kid":${JSON.stringify(c.kid)},"typ":"at+jwt","alg":"none"}`,
      claims(c),
      signers.none,
    ),
  ),
  R('duplicate header key, lexically last typ is "JWT"', 'RFC 7515 §4', (c) =>
    jws(`{"alg":"EdDSA","kid":${JSON.stringify(c.kid)},"typ":"at+jwt","typ":"JWT"}`, claims(c), c.real),
  ),
  R('duplicate header kid, last unknown', 'RFC 7515 §4', (c) =>
    jws(`{"alg":"EdDSA","kid":${JSON.stringify(c.kid)},"typ":"at+jwt","kid":"zz"}`, claims(c), att),
  ),
  R('header JSON bomb (nesting 2000), attacker key', 'resource exhaustion', (c) =>
    jws(`{"alg":"EdDSA","kid":${JSON.stringify(c.kid)},"typ":"at+jwt","x":${nested(2000)}}`, claims(c), att),
  ),
  R('header of 6 KB (under the cap), attacker key', 'resource exhaustion', (c) =>
    jws(header(c, { pad: 'x'.repeat(4500) }), claims(c), att),
  ),
];

const encodings: Row[] = [
  R('"=" padding on every segment', 'RFC 7515 §2 (no padding)', (c) =>
    c.valid
      .split('.')
      .map((s) => `${s}=`)
      .join('.'),
  ),
  R('"==" padding on the signature', 'RFC 7515 §2', (c) => `${c.valid}==`),
  R('standard base64 "+" in the signature', 'RFC 7515 §2 (base64url alphabet)', (c) =>
    withSegment(c.valid, 2, `+${c.valid.split('.')[2]!.slice(1)}`),
  ),
  R('standard base64 "/" in the payload', 'RFC 7515 §2', (c) =>
    withSegment(c.valid, 1, `/${c.valid.split('.')[1]!.slice(1)}`),
  ),
  R('"%" escaped characters', 'RFC 7515 §2', (c) => c.valid.replace('.', '%2E')),
  R(
    'non-canonical base64url: pad bits set in the signature',
    'RFC 4648 §3.5, RFC 7515 §2 (one token, one encoding)',
    (c) => nonCanonicalSignature(c.valid),
  ),
  R('non-canonical base64url: a segment of length 1 mod 4', 'RFC 4648 §4', (c) =>
    withSegment(c.valid, 2, `${c.valid.split('.')[2]!}AAAAA`),
  ),
  R('extra fourth segment', 'RFC 7515 §7.1 (three parts)', (c) => `${c.valid}.${c.valid.split('.')[2]!}`),
  R('trailing dot', 'RFC 7515 §7.1', (c) => `${c.valid}.`),
  R('leading dot', 'RFC 7515 §7.1', (c) => `.${c.valid}`),
  R('two segments (no signature)', 'RFC 7515 §7.1', (c) => c.valid.split('.').slice(0, 2).join('.')),
  R(
    'two segments and a trailing dot (empty signature)',
    'RFC 7515 §7.1',
    (c) => `${c.valid.split('.').slice(0, 2).join('.')}.`,
  ),
  R('JWE-shaped, five segments', 'RFC 7516 §7.1 (JWE is not accepted)', (c) => {
    const h = b64(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: c.kid, typ: 'at+jwt' }));
    return `${h}..${b64(randomBytes(12))}.${b64(randomBytes(40))}.${b64(randomBytes(16))}`;
  }),
  R(
    'five segments made of a valid token',
    'RFC 7516 §7.1',
    (c) => `${c.valid}.${c.valid.split('.').slice(0, 2).join('.')}`,
  ),
  R('empty header segment', 'RFC 7515 §7.1', (c) => withSegment(c.valid, 0, '')),
  R('empty payload segment', 'RFC 7515 §7.1', (c) => withSegment(c.valid, 1, '')),
  R('".."', 'RFC 7515 §7.1', () => '..'),
  R('a single "."', 'RFC 7515 §7.1', () => '.'),
  R('space inside the token', 'RFC 6750 §2.1 (b64token)', (c) => c.valid.replace('.', '. ')),
  R('token followed by junk after a space', 'RFC 6750 §2.1', (c) => `${c.valid} junk`),
  R('trailing data appended to the signature', 'RFC 7515 §5.2', (c) => `${c.valid}AAAA`),
  R('signature truncated by 2 characters', 'RFC 7515 §5.2', (c) => c.valid.slice(0, -2)),
  R('signature truncated to half', 'RFC 7515 §5.2', (c) => {
    const [h, p, s] = c.valid.split('.');
    return `${h}.${p}.${s!.slice(0, s!.length / 2)}`;
  }),
  R('signature of all "A"', 'RFC 7515 §5.2', (c) => withSegment(c.valid, 2, 'A'.repeat(86))),
  R(
    'header of token A + payload of B + signature of A (splice)',
    'RFC 7515 §5.2 (signature covers both)',
    (c) => [c.valid.split('.')[0], c.validB.split('.')[1], c.valid.split('.')[2]].join('.'),
  ),
  R('header and payload of A + signature of B (another valid token)', 'RFC 7515 §5.2', (c) =>
    withSegment(c.valid, 2, c.validB.split('.')[2]!),
  ),
  R('payload with alice changed to admin, original signature', 'RFC 7515 §5.2', (c) => {
    const p = JSON.parse(Buffer.from(c.valid.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    return withSegment(
      c.valid,
      1,
      b64(JSON.stringify({ ...p, sub: 'admin', scope: 'echo:admin authmesh:admin' })),
    );
  }),
  R('payload re-serialized (same claims, different bytes), original signature', 'RFC 7515 §5.2', (c) => {
    const p = JSON.parse(Buffer.from(c.valid.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    return withSegment(c.valid, 1, b64(JSON.stringify(p, null, 1)));
  }),
  R('payload is not JSON', 'RFC 7519 §7.2 step 10', (c) => jws(header(c), 'not json', c.real)),
  R('payload is a JSON array', 'RFC 7519 §7.2', (c) => jws(header(c), '[1,2]', c.real)),
  R('payload is JSON null', 'RFC 7519 §7.2', (c) => jws(header(c), 'null', c.real)),
  R('payload is a JSON string', 'RFC 7519 §7.2', (c) => jws(header(c), '"x"', c.real)),
  R('payload in invalid UTF-8', 'RFC 7519 §7.2 step 10', (c) => {
    const h = b64(JSON.stringify(header(c)));
    const input = `${h}.${b64(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))}`;
    return `${input}.${b64(c.real(Buffer.from(input)))}`;
  }),
  R('payload JSON bomb in act (nesting 1500)', 'resource exhaustion', (c) => {
    let act = '{"sub":"x"}';
    for (let i = 0; i < 1500; i++) act = `{"sub":"x","act":${act}}`;
    return jws(header(c), JSON.stringify(claims(c)).replace(/}$/, `,"act":${act}}`), c.real);
  }),
  R('act chain deeper than 16', 'RFC 8693 §4.1 (bounded)', (c) => {
    let act: Record<string, unknown> = { sub: 'x' };
    for (let i = 0; i < 20; i++) act = { sub: `s${i}`, act };
    return realTok(c, {}, { act });
  }),
  R('duplicate payload key, lexically last aud is "other"', 'RFC 7519 §4 (parser differential)', (c) =>
    jws(header(c), JSON.stringify(claims(c)).replace(/}$/, ',"aud":"other"}'), c.real),
  ),
  R('duplicate payload key, lexically last exp is past', 'RFC 7519 §4', (c) =>
    jws(header(c), JSON.stringify(claims(c)).replace(/}$/, `,"exp":${now() - 3600}}`), c.real),
  ),
  R(
    'oversized: 9 KB token (over the 8 KB cap), real key',
    'RFC 8725 §3.? resource bounds (maxTokenBytes)',
    (c) => realTok(c, {}, { pad: 'x'.repeat(9000) }),
  ),
  R(
    'oversized: 15 KB of base64url',
    'resource bounds',
    () => `${'A'.repeat(5000)}.${'B'.repeat(5000)}.${'C'.repeat(5000)}`,
  ),
  R('100 dots', 'RFC 7515 §7.1', () => '.'.repeat(100)),
];

const typeConfusion: Row[] = [
  R(
    'a revocation event JWS (same key, same JWKS) as an access token',
    'RFC 8725 §3.11, §2.8 (cross-JWT confusion)',
    (c) => c.revocationEvent,
  ),
  R('a refresh token as an access token', 'DESIGN.md (never accepted as access tokens)', (c) => c.refresh),
  R('a real token for another audience (authmesh)', 'RFC 7519 §4.1.3, RFC 9068 §4', (c) => c.otherAudience),
  R('a revoked real token (jti)', 'DESIGN.md revocation', (c) => c.revoked),
];

const claimRows: Row[] = [
  R('iss wrong', 'RFC 7519 §4.1.1, RFC 9068 §4', (c) => realTok(c, {}, { iss: 'http://evil.test' })),
  R('iss missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { iss: undefined })),
  R('iss with a trailing slash', 'RFC 9068 §4 (exact match)', (c) => realTok(c, {}, { iss: `${c.issuer}/` })),
  R('iss upper-cased', 'RFC 9068 §4', (c) => realTok(c, {}, { iss: c.issuer.toUpperCase() })),
  R('iss as an array', 'RFC 7519 §4.1.1', (c) => realTok(c, {}, { iss: [c.issuer] })),
  R('aud wrong', 'RFC 7519 §4.1.3', (c) => realTok(c, {}, { aud: 'other' })),
  R('aud missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { aud: undefined })),
  R('aud empty array', 'RFC 7519 §4.1.3', (c) => realTok(c, {}, { aud: [] })),
  R('aud array without echo', 'RFC 7519 §4.1.3', (c) => realTok(c, {}, { aud: ['a', 'b'] })),
  R('aud "ECHO" (case)', 'RFC 7519 §4.1.3 (StringOrURI compare, case-sensitive)', (c) =>
    realTok(c, {}, { aud: 'ECHO' }),
  ),
  R('aud a number', 'RFC 7519 §4.1.3', (c) => realTok(c, {}, { aud: 1 })),
  R('aud array with echo and a non-string', 'RFC 7519 §4.1.3', (c) => realTok(c, {}, { aud: ['echo', 1] })),
  R('aud "echo " (trailing space)', 'RFC 7519 §4.1.3', (c) => realTok(c, {}, { aud: 'echo ' })),
  R('exp missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { exp: undefined })),
  R('exp an hour ago', 'RFC 7519 §4.1.4', (c) => realTok(c, {}, { exp: now() - 3600 })),
  R('exp just beyond the 5 s tolerance', 'RFC 7519 §4.1.4', (c) => realTok(c, {}, { exp: now() - 7 })),
  R('exp "NaN" (string)', 'RFC 7519 §2 NumericDate', (c) => realTok(c, {}, { exp: 'NaN' })),
  R('exp numeric string', 'RFC 7519 §2 NumericDate', (c) => realTok(c, {}, { exp: String(now() + 300) })),
  R('exp 1e400 (Infinity after parsing)', 'RFC 7519 §2 NumericDate', (c) =>
    jws(header(c), JSON.stringify(claims(c, { exp: undefined })).replace(/}$/, ',"exp":1e400}'), c.real),
  ),
  R('exp null', 'RFC 7519 §2', (c) => realTok(c, {}, { exp: null })),
  R('exp true', 'RFC 7519 §2', (c) => realTok(c, {}, { exp: true })),
  R('exp negative', 'RFC 7519 §4.1.4', (c) => realTok(c, {}, { exp: -1 })),
  R('nbf an hour ahead', 'RFC 7519 §4.1.5', (c) => realTok(c, {}, { nbf: now() + 3600 })),
  R('nbf just beyond the tolerance', 'RFC 7519 §4.1.5', (c) => realTok(c, {}, { nbf: now() + 8 })),
  R('nbf a string', 'RFC 7519 §2', (c) => realTok(c, {}, { nbf: 'now' })),
  R('iat an hour ahead', 'RFC 7519 §4.1.6, RFC 9068 §2.2', (c) =>
    realTok(c, {}, { iat: now() + 3600, nbf: undefined }),
  ),
  R('iat missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { iat: undefined })),
  R('iat a string', 'RFC 7519 §2', (c) => realTok(c, {}, { iat: 'yesterday' })),
  R('sub missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { sub: undefined })),
  R('sub empty', 'RFC 9068 §2.2', (c) => realTok(c, {}, { sub: '' })),
  R('sub a number', 'RFC 7519 §4.1.2 (StringOrURI)', (c) => realTok(c, {}, { sub: 42 })),
  R('jti missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { jti: undefined })),
  R('jti an object', 'RFC 7519 §4.1.7', (c) => realTok(c, {}, { jti: { $ne: 1 } })),
  R('client_id missing', 'RFC 9068 §2.2', (c) => realTok(c, {}, { client_id: undefined })),
  R('client_id an array', 'RFC 9068 §2.2', (c) => realTok(c, {}, { client_id: ['cli'] })),
  R('scope as an array', 'RFC 9068 §2.2.3 (space-separated string)', (c) =>
    realTok(c, {}, { scope: ['echo:read'] }),
  ),
  R('roles as a string', 'RFC 9068 §2.2.3.1 / RFC 7643 (array)', (c) => realTok(c, {}, { roles: 'dev' })),
  R('roles with a non-string', 'RFC 9068 §2.2.3.1', (c) => realTok(c, {}, { roles: ['dev', 7] })),
  R('sid a number', 'DESIGN.md (sid string)', (c) => realTok(c, {}, { sid: 7 })),
  R('act without sub', 'RFC 8693 §4.1', (c) => realTok(c, {}, { act: { client_id: 'x' } })),
  R('act a string', 'RFC 8693 §4.1', (c) => realTok(c, {}, { act: 'svc' })),
  R('claims "__proto__" smuggling scope', 'prototype pollution class', (c) =>
    jws(
      header(c),
      JSON.stringify(claims(c, { scope: undefined })).replace(
        /}$/,
        ',"__proto__":{"scope":"echo:admin"},"iss":1}',
      ),
      c.real,
    ),
  ),
];

const authorization: Row[] = [
  M('no authorization header', 'RFC 6750 §3.1', 'reject', () => []),
  M('"Basic" scheme with the token', 'RFC 6750 §2.1', 'reject', (c) => [
    ['authorization', `Basic ${c.valid}`],
  ]),
  M('"Basic" user:password', 'RFC 7617', 'reject', () => [
    ['authorization', `Basic ${Buffer.from('alice:pw').toString('base64')}`],
  ]),
  M('"Token" scheme', 'RFC 6750 §2.1', 'reject', (c) => [['authorization', `Token ${c.valid}`]]),
  M('"Bearer" without a space', 'RFC 6750 §2.1 (1*SP)', 'reject', (c) => [
    ['authorization', `Bearer${c.valid}`],
  ]),
  M('"Bearer:" with a colon', 'RFC 6750 §2.1', 'reject', (c) => [['authorization', `Bearer:${c.valid}`]]),
  M('raw token, no scheme', 'RFC 6750 §2.1', 'reject', (c) => [['authorization', c.valid]]),
  M(
    'trailing spaces after the token (grpc-js client)',
    'RFC 9113 §8.2.1 (a field value must not end in whitespace), RFC 6750 §2.1',
    'reject',
    (c) => [['authorization', `Bearer ${c.valid}   `]],
  ),
  H('trailing spaces after the token (raw HTTP/2)', 'RFC 9113 §8.2.1, RFC 6750 §2.1', (c) => ({
    authorization: `Bearer ${c.valid}   `,
  })),
  // Two authorization values cannot be put on the wire by grpc-js or node:http2 (both refuse); the
  // interceptor's refusal of them is proven in-process in test/fuzz/parser.test.ts.
  H('tab between scheme and token (raw HTTP/2)', 'RFC 6750 §2.1 (SP only)', (c) => ({
    authorization: `Bearer\t${c.valid}`,
  })),
  H('tab inside the token (raw HTTP/2)', 'RFC 6750 §2.1', (c) => ({
    authorization: `Bearer ${c.valid.replace('.', '.\t')}`,
  })),
  H('latin-1 byte inside the token (raw HTTP/2)', 'RFC 7515 §2 (base64url alphabet)', (c) => ({
    authorization: `Bearer ${c.valid.replace('.', '.\u00e9')}`,
  })),
  H('latin-1 byte appended (raw HTTP/2)', 'RFC 7515 §2', (c) => ({
    authorization: `Bearer ${c.valid}\u00ff`,
  })),
  H('UTF-8 fullwidth letters in the payload (raw HTTP/2)', 'RFC 7515 §2', (c) => ({
    authorization: Buffer.from(
      `Bearer ${withSegment(c.valid, 1, 'ｅｙＪ' + c.valid.split('.')[1]!.slice(3))}`,
    ).toString('latin1'),
  })),
  H('zero-width space appended, as UTF-8 bytes (raw HTTP/2)', 'RFC 7515 §2', (c) => ({
    authorization: Buffer.from(`Bearer ${c.valid}\u200b`).toString('latin1'),
  })),
  H('authorization-bin with a base64 bearer value (raw HTTP/2)', 'gRPC PROTOCOL-HTTP2', (c) => ({
    'authorization-bin': Buffer.from(`Bearer ${c.valid}`).toString('base64'),
  })),
  M('"Bearer " with an empty token', 'RFC 6750 §2.1', 'reject', () => [['authorization', 'Bearer ']]),
  M('"Bearer" alone', 'RFC 6750 §2.1', 'reject', () => [['authorization', 'Bearer']]),
  M('"Bearer" and only spaces', 'RFC 6750 §2.1', 'reject', () => [['authorization', 'Bearer      ']]),
  M('empty authorization value', 'RFC 6750 §2.1', 'reject', () => [['authorization', '']]),
  M(
    'token in authorization-bin (binary metadata)',
    'gRPC PROTOCOL-HTTP2 (binary headers are not authorization)',
    'reject',
    (c) => [['authorization-bin', Buffer.from(`Bearer ${c.valid}`)]],
  ),
  M('token in x-authorization', 'RFC 6750 §2.1', 'reject', (c) => [['x-authorization', `Bearer ${c.valid}`]]),
  M('token in a query-style "access_token" header', 'RFC 6750 §2.3 (not supported)', 'reject', (c) => [
    ['access_token', c.valid],
  ]),
  M('spoofed x-authmesh-principal header, no token', 'interceptor strips x-authmesh-*', 'reject', () => [
    ['x-authmesh-sub', 'admin'],
    ['x-authmesh-principal', '{"sub":"admin"}'],
  ]),
  M('authorization of 20 KB', 'resource bounds', 'reject', () => [
    ['authorization', `Bearer ${'A'.repeat(20_000)}`],
  ]),
];

/** Every row, grouped in batches (the service is checked after each batch). */
export const batches: Record<string, Row[]> = {
  controls,
  'algorithm none and confusion': algConfusion,
  'smuggled keys': smuggledKeys,
  kid: kids,
  'header parameters and typ': headers,
  'encodings, splices, sizes': encodings,
  'token-type confusion, audience, revoked': typeConfusion,
  claims: claimRows,
  'authorization header': authorization,
};
