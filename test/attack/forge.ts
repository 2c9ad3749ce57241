// Raw JWS construction for the attack corpus: any header/payload text (duplicate keys, bombs, bad
// JSON), any algorithm, any key — nothing here validates, on purpose.
import { constants, createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** Produces the signature bytes over the JWS signing input. */
export type Signer = (input: Buffer) => Buffer;

/** base64url of a string or bytes (RFC 7515 §2, no padding). */
export const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64url');

/** Compact JWS of a header and payload given as objects (JSON.stringify) or raw JSON text. */
export function jws(header: object | string, payload: object | string, signer: Signer): string {
  const h = b64(typeof header === 'string' ? header : JSON.stringify(header));
  const p = b64(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const input = `${h}.${p}`;
  return `${input}.${b64(signer(Buffer.from(input)))}`;
}

/** Signers by algorithm family. */
export const signers = {
  none: (): Buffer => Buffer.alloc(0),
  ed:
    (key: KeyObject): Signer =>
    (d) =>
      sign(null, d, key),
  es:
    (hash: string, key: KeyObject): Signer =>
    (d) =>
      sign(hash, d, { key, dsaEncoding: 'ieee-p1363' }),
  rs:
    (hash: string, key: KeyObject): Signer =>
    (d) =>
      sign(hash, d, key),
  ps:
    (hash: string, key: KeyObject): Signer =>
    (d) =>
      sign(hash, d, {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }),
  hs:
    (hash: string, secret: string | Buffer): Signer =>
    (d) =>
      createHmac(hash, secret).update(d).digest(),
};

/** The attacker's own keys (generated once per run). */
export const attackerKeys = {
  ed: generateKeyPairSync('ed25519'),
  p256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  p521: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};

/** JSON nested `depth` levels deep: `[[[...]]]`. */
export const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** Replaces segment `i` (0 header, 1 payload, 2 signature) of a compact token. */
export function withSegment(token: string, i: number, value: string): string {
  const parts = token.split('.');
  parts[i] = value;
  return parts.join('.');
}

/**
 * The same token with non-zero pad bits in the last signature character: decodes to the same bytes
 * under a lenient base64 decoder, but is not the canonical encoding (RFC 4648 §3.5).
 */
export function nonCanonicalSignature(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const sig = token.slice(token.lastIndexOf('.') + 1);
  const padBits = (sig.length * 6) % 8; // bits of the last char that carry no data
  if (padBits === 0) throw new Error('signature length has no pad bits');
  const last = alphabet.indexOf(sig[sig.length - 1]!);
  const flipped = alphabet[last ^ 1]!; // lowest bit is always a pad bit here
  return token.slice(0, token.length - 1) + flipped;
}
