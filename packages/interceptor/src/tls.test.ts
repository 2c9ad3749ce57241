import { describe, expect, it } from 'vitest';
import { certThumbprint, tlsFromEnv } from './tls.js';

describe('tlsFromEnv', () => {
  it('is undefined without a certificate (plaintext)', () => {
    expect(tlsFromEnv({})).toBeUndefined();
  });
  it('names the variable that is wrong or missing', () => {
    expect(() => tlsFromEnv({ AUTHMESH_TLS_CERT: '/c.pem' })).toThrow(
      /AUTHMESH_TLS_CERT and AUTHMESH_TLS_KEY/,
    );
    expect(() => tlsFromEnv({ AUTHMESH_TLS_CLIENT_AUTH: 'maybe' })).toThrow(/AUTHMESH_TLS_CLIENT_AUTH/);
    expect(() => tlsFromEnv({ AUTHMESH_TLS_CLIENT_AUTH: 'require' })).toThrow(/AUTHMESH_TLS_CERT/);
    expect(() =>
      tlsFromEnv({ AUTHMESH_TLS_CERT: '/c', AUTHMESH_TLS_KEY: '/k', AUTHMESH_TLS_CLIENT_AUTH: 'require' }),
    ).toThrow(/AUTHMESH_TLS_CA/);
    expect(() => tlsFromEnv({ AUTHMESH_TLS_CERT: '/nonexistent/c', AUTHMESH_TLS_KEY: '/k' })).toThrow(
      /AUTHMESH_TLS_CERT: cannot read \/nonexistent\/c \(ENOENT\)/,
    );
  });
});

describe('certThumbprint', () => {
  it('is base64url SHA-256 of the DER bytes (RFC 8705 §3.1)', () => {
    // SHA-256 of the empty string.
    expect(certThumbprint(Buffer.alloc(0))).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });
});
