import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../claims.js';
import { AuthError } from '../errors.js';
import { certThumbprint } from '../tls.js';

/** The part of grpc-js's call auth context read here (grpc-js does not export its type). */
export interface PeerAuthContext {
  sslPeerCertificate?: { raw?: Buffer };
}

/**
 * RFC 8705 §3: a token carrying `cnf.x5t#S256` is usable only over a TLS connection whose client
 * certificate has that SHA-256 thumbprint; a bearer copy from anyone else is refused
 * (ERR_CERT_BINDING → UNAUTHENTICATED). Tokens without `cnf` are unaffected (a property read).
 */
export function checkCertificateBinding(
  principal: Principal,
  call: { getAuthContext(): PeerAuthContext | null },
): void {
  const cnf = principal.claims.cnf as { 'x5t#S256'?: unknown } | undefined;
  if (cnf === undefined) return;
  const expected = cnf?.['x5t#S256'];
  if (typeof expected !== 'string' || expected === '')
    throw new AuthError('ERR_CERT_BINDING', 'unsupported confirmation method');
  const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
  if (raw === undefined) throw new AuthError('ERR_CERT_BINDING', 'no client certificate');
  const actual = Buffer.from(certThumbprint(raw));
  const want = Buffer.from(expected);
  // Thumbprints are public, but the comparison costs nothing to make constant-time.
  if (actual.length !== want.length || !timingSafeEqual(actual, want))
    throw new AuthError('ERR_CERT_BINDING', 'client certificate does not match the token');
}
