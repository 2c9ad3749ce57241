/**
 * ECDSA P-256 signatures are malleable: if (r, s) verifies, so does (r, n − s). For revocation events
 * only the low-S form (s ≤ n/2, as in BIP 62 and libsecp256k1) is accepted, so one event has exactly
 * one valid encoding: its digest identifies it (a forged variant of a genuine event can neither be
 * remembered as something new nor displace the original). Our signer normalizes to low-S.
 */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = N >> 1n;

function scalar(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

/** Whether a raw ES256 signature (r || s, 64 bytes) has s ≤ n/2. */
export function isLowS(signature: Uint8Array): boolean {
  return signature.length === 64 && scalar(signature.subarray(32)) <= HALF_N;
}

/** The low-S form of a raw ES256 signature (unchanged when already low-S). */
export function toLowS(signature: Uint8Array): Uint8Array {
  if (signature.length !== 64 || isLowS(signature)) return signature;
  const s = N - scalar(signature.subarray(32));
  const out = Buffer.from(signature);
  Buffer.from(s.toString(16).padStart(64, '0'), 'hex').copy(out, 32);
  return out;
}
