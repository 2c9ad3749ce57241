import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** A private key sealed under the KEK: base64url of `iv (12) || ciphertext || tag (16)`. */
export type SealedKey = string;

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM envelope for private JWKs at rest. A fresh random 96-bit IV per seal (NIST SP 800-38D §8.2.2:
 * random IVs are safe well below 2^32 seals per key) and the `kid` as additional authenticated data, so a
 * sealed key cannot be swapped under another key id without failing to open.
 */
export class Kek {
  readonly #key: Buffer;

  /** `key`: exactly 32 bytes (AES-256). */
  constructor(key: Uint8Array) {
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('kek: key must be 32 bytes');
    this.#key = Buffer.from(key);
  }

  /** Encrypts `plaintext` bound to `kid`. */
  seal(kid: string, plaintext: string): SealedKey {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, ct, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * A 32-byte key for one `purpose`, derived from the KEK with HKDF-SHA-256 (RFC 5869, info
   * `authmesh/<purpose>`): each use gets its own key, and the KEK itself never leaves this object.
   */
  deriveKey(purpose: string): Buffer {
    if (typeof purpose !== 'string' || purpose === '')
      throw new TypeError('kek: purpose must be a non-empty string');
    return Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `authmesh/${purpose}`, 32));
  }

  /** Decrypts and authenticates; throws `KekError` on a wrong KEK, a wrong kid or any tampering. */
  open(kid: string, sealed: SealedKey): string {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new KekError(kid);
    const iv = bytes.subarray(0, IV_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    const ct = bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(kid, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch (cause) {
      throw new KekError(kid, cause);
    }
  }
}

/** A sealed key that does not open: wrong KEK (is AUTHMESH_KEK the one the ring was created with?) or tampering. */
export class KekError extends Error {
  override readonly name = 'KekError';
  readonly code = 'ERR_KEK';
  constructor(kid: string, cause?: unknown) {
    super(
      `private key ${kid} does not decrypt: AUTHMESH_KEK differs from the one it was sealed with, or the entry was tampered with`,
      { cause },
    );
  }
}
