/**
 * ECDSA P-256 signatures are malleable: if (r, s) verifies, so does (r, n − s). Only the low-S form
 * (s ≤ n/2, as in BIP 62 and libsecp256k1) is accepted, for ES256 access tokens and revocation
 * events alike, so one signed payload has exactly one valid encoding: a twin of a genuine token is not
 * a second token (no second cache entry, no second identity for the same claims), and an event's
 * digest identifies it. Our signers normalize to low-S (`toLowS`).
 */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** floor(n / 2), big-endian: s is low when s ≤ this. */
const HALF_N = Buffer.from('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8', 'hex');

/**
 * Whether a raw ES256 signature (r || s, 64 bytes) has s ≤ n/2. On the verification hot path: a
 * byte comparison with no allocation, which almost always ends at s's first byte.
 */
export function isLowS(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  for (let i = 0; i < 32; i++) {
    const a = signature[32 + i]!;
    const b = HALF_N[i]!;
    if (a !== b) return a < b;
  }
  return true;
}

/** The low-S form of a raw ES256 signature (unchanged when already low-S). */
export function toLowS(signature: Uint8Array): Uint8Array {
  if (signature.length !== 64 || isLowS(signature)) return signature;
  const s = N - BigInt(`0x${Buffer.from(signature.subarray(32)).toString('hex')}`);
  const out = Buffer.from(signature);
  Buffer.from(s.toString(16).padStart(64, '0'), 'hex').copy(out, 32);
  return out;
}
