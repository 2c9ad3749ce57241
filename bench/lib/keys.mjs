import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

/** Issuer and audience the overhead bench's tokens carry and its server accepts. */
export const benchIssuer = 'http://bench.authmesh.invalid';
export const benchAudience = 'bench';

/** A fresh Ed25519 signing key as JWKs (private for the signer process, public for the server's JWKS). */
export function newSigningKey(kid = randomBytes(6).toString('base64url')) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
  const priv = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' };
  return { kid, privateJwk: priv, publicJwk: pub };
}

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

/**
 * A JWS signer over node:crypto (about twice jose's rate), for pre-signing token pools fast.
 * Tokens are shaped like the auth service's (services/auth/src/tokens/minter.ts): header `typ: at+jwt`
 * with an 8-character kid, claims iss/sub/aud/exp/iat/jti/client_id/scope/roles (no nbf).
 */
export function tokenSigner(
  privateJwk,
  { issuer = benchIssuer, audience = benchAudience, ttlSec = 600 } = {},
) {
  const key = createPrivateKey({ key: privateJwk, format: 'jwk' });
  const header = b64({ alg: 'EdDSA', kid: privateJwk.kid, typ: 'at+jwt' });
  return {
    /** One token with a fresh 128-bit jti. */
    sign(extra = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: issuer,
        sub: 'bench-user',
        aud: audience,
        iat: now,
        exp: now + ttlSec,
        jti: randomBytes(16).toString('base64url'),
        client_id: 'bench-client',
        scope: 'bench:read',
        roles: ['bench'],
        ...extra,
      };
      const input = `${header}.${b64(claims)}`;
      return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
    },
    /** A generic compact JWS with a given protected header and payload (e.g. revocation events). */
    signJws(headerObj, payload) {
      const input = `${b64({ alg: 'EdDSA', kid: privateJwk.kid, ...headerObj })}.${b64(payload)}`;
      return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
    },
  };
}

/** The public key as a node KeyObject and as SPKI PEM (fast-jwt takes PEM). */
export function publicKeyForms(publicJwk) {
  const key = createPublicKey({ key: publicJwk, format: 'jwk' });
  return { key, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

/** The transport control's header name: as long as `authorization`, and not stripped like `x-authmesh-*`. */
export const transportControlHeader = 'x-bench-token';

/**
 * `Bearer <random base64url as long as the token>`: the value of the transport control, with the same
 * length and alphabet (so the same Huffman cost) as the real `authorization` value.
 */
export function transportControlValue(token) {
  return `Bearer ${randomBytes(token.length).toString('base64url').slice(0, token.length)}`;
}
