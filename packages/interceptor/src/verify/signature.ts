import {
  constants,
  verify,
  type KeyObject,
  type VerifyKeyObjectInput,
  type VerifyPublicKeyInput,
} from 'node:crypto';
import { isLowS } from './low-s.js';

/**
 * How node:crypto verifies each JWS algorithm we accept (RFC 7518 §3; RFC 8037 §3.1 for EdDSA).
 * ECDSA signatures in JWS are the raw r||s concatenation (RFC 7518 §3.4), hence `ieee-p1363`.
 */
const PARAMS: Record<
  string,
  { hash: string | null; key: (k: KeyObject) => VerifyKeyObjectInput | VerifyPublicKeyInput | KeyObject }
> = {
  EdDSA: { hash: null, key: (k) => k },
  Ed25519: { hash: null, key: (k) => k },
  ES256: { hash: 'sha256', key: (k) => ({ key: k, dsaEncoding: 'ieee-p1363' }) },
  ES384: { hash: 'sha384', key: (k) => ({ key: k, dsaEncoding: 'ieee-p1363' }) },
  RS256: { hash: 'sha256', key: (k) => k },
  PS256: {
    hash: 'sha256',
    key: (k) => ({
      key: k,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }),
  },
};

/**
 * Verifies the signature of a compact JWS synchronously with node:crypto. The caller has already
 * checked that `alg` is allowed and matches the key (RFC 8725 §2.1): this only does the math, on the
 * calling thread — a thread-pool round trip (WebCrypto) costs more CPU than the Ed25519 check itself.
 * `token` is the whole compact JWS; `lastDot` the index of its second dot. ES256 signatures must be
 * low-S (./low-s.ts).
 */
export function verifyCompactSignature(alg: string, key: KeyObject, token: string, lastDot: number): boolean {
  const p = PARAMS[alg];
  if (p === undefined) return false;
  // The check is synchronous, so the bytes can live in reused buffers: no allocation per token (a cold
  // verification's garbage is what its GC time is made of). A signature longer than the buffer is
  // longer than any we accept: refused, never truncated into it.
  if (((token.length - lastDot - 1) * 3) >> 2 > SIGNATURE_SCRATCH.length) return false;
  const sigLength = SIGNATURE_SCRATCH.write(token.slice(lastDot + 1), 0, 'base64url');
  const signature = SIGNATURE_SCRATCH.subarray(0, sigLength);
  // ES256: the high-S twin (r, n − s) of a valid signature verifies too; only the low-S form counts.
  if (alg === 'ES256' && !isLowS(signature)) return false;
  if (inputScratch.length < lastDot)
    inputScratch = Buffer.allocUnsafe(Math.max(lastDot, inputScratch.length * 2));
  inputScratch.write(token, 0, lastDot, 'latin1'); // base64url text is ASCII: one byte per character
  try {
    return verify(p.hash, inputScratch.subarray(0, lastDot), p.key(key), signature);
  } catch {
    // A signature of the wrong length for the curve, or a key of the wrong type: not valid.
    return false;
  }
}

/** Decoded signatures of the synchronous check (RSA-4096 is the longest: 512 bytes). */
const SIGNATURE_SCRATCH = Buffer.allocUnsafe(1024);
/** Signing inputs of the synchronous check; grows to the longest token seen. */
let inputScratch = Buffer.allocUnsafe(2048);

/**
 * {@link verifyCompactSignature} on libuv's thread pool: for revocation events, which arrive in bursts (a
 * bulk revocation, a forged flood) and would otherwise hold the event loop, and every call it serves,
 * for a signature check each (~100 µs). Tokens stay on the calling thread, where the check is cheaper
 * than the round trip.
 */
export function verifyCompactSignatureAsync(
  alg: string,
  key: KeyObject,
  token: string,
  lastDot: number,
): Promise<boolean> {
  const parts = signatureParts(alg, token, lastDot);
  if (parts === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify(parts.hash, parts.signingInput, parts.key(key), parts.signature, (err, ok) =>
        resolve(err === null && ok),
      );
    } catch {
      resolve(false);
    }
  });
}

/** What node:crypto's verify needs for `token`; undefined for an unknown alg or a high-S ES256 signature. */
function signatureParts(alg: string, token: string, lastDot: number) {
  const p = PARAMS[alg];
  if (p === undefined) return undefined;
  const signature = Buffer.from(token.slice(lastDot + 1), 'base64url');
  // ES256: the high-S twin (r, n − s) of a valid signature verifies too; only the low-S form counts.
  if (alg === 'ES256' && !isLowS(signature)) return undefined;
  const signingInput = Buffer.from(token.slice(0, lastDot), 'latin1'); // base64url text is ASCII
  return { hash: p.hash, key: p.key, signature, signingInput };
}
