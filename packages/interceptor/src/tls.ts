import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';

/** TLS material of a service, PEM, as `tlsFromEnv` reads it. */
export interface TlsSettings {
  /** This service's certificate chain: served to callers, and presented as the client certificate on outgoing calls. */
  cert: Buffer;
  key: Buffer;
  /** CA that signs peers' certificates: verifies servers we call and (with `requireClientCert`) our callers. */
  ca: Buffer | undefined;
  /** `AUTHMESH_TLS_CLIENT_AUTH=require`: callers must present a certificate signed by `ca` (mTLS). */
  requireClientCert: boolean;
}

/**
 * Reads `AUTHMESH_TLS_CERT`, `AUTHMESH_TLS_KEY` (PEM file paths), `AUTHMESH_TLS_CA` and
 * `AUTHMESH_TLS_CLIENT_AUTH` (`require` or `none`). Undefined when no certificate is configured
 * (plaintext). An incomplete or unreadable setting throws an Error naming the variable.
 */
export function tlsFromEnv(env: NodeJS.ProcessEnv = process.env): TlsSettings | undefined {
  const certPath = env.AUTHMESH_TLS_CERT || undefined;
  const keyPath = env.AUTHMESH_TLS_KEY || undefined;
  const caPath = env.AUTHMESH_TLS_CA || undefined;
  const clientAuth = env.AUTHMESH_TLS_CLIENT_AUTH || 'none';
  if (clientAuth !== 'require' && clientAuth !== 'none')
    throw new Error(`AUTHMESH_TLS_CLIENT_AUTH must be "require" or "none", got "${clientAuth}"`);
  if (certPath === undefined && keyPath === undefined) {
    if (clientAuth === 'require')
      throw new Error('AUTHMESH_TLS_CLIENT_AUTH=require needs AUTHMESH_TLS_CERT and AUTHMESH_TLS_KEY');
    return undefined;
  }
  if (certPath === undefined || keyPath === undefined)
    throw new Error('AUTHMESH_TLS_CERT and AUTHMESH_TLS_KEY must be set together');
  if (clientAuth === 'require' && caPath === undefined)
    throw new Error('AUTHMESH_TLS_CLIENT_AUTH=require needs AUTHMESH_TLS_CA (the CA of client certificates)');
  const read = (path: string, variable: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new Error(
        `${variable}: cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
        { cause },
      );
    }
  };
  return {
    cert: read(certPath, 'AUTHMESH_TLS_CERT'),
    key: read(keyPath, 'AUTHMESH_TLS_KEY'),
    ca: caPath === undefined ? undefined : read(caPath, 'AUTHMESH_TLS_CA'),
    requireClientCert: clientAuth === 'require',
  };
}

/** Server credentials: TLS (mTLS when `requireClientCert`) from `tls`, plaintext when it is undefined. */
export function serverCredentials(tls: TlsSettings | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.ca ?? null,
    [{ cert_chain: tls.cert, private_key: tls.key }],
    tls.requireClientCert,
  );
}

/**
 * Channel credentials for calls this service makes (JWKS, token exchange, relays): verifies the server
 * with `tls.ca` (system roots when absent) and presents this service's certificate, so a peer that
 * requires mTLS accepts it. Undefined without TLS settings (callers then decide about plaintext).
 */
export function channelCredentials(tls: TlsSettings | undefined): grpc.ChannelCredentials | undefined {
  if (tls === undefined) return undefined;
  return grpc.credentials.createSsl(tls.ca ?? null, tls.key, tls.cert);
}

/**
 * RFC 8705 §3.1 certificate thumbprint: base64url(SHA-256(DER certificate)), the `x5t#S256` member
 * of a token's `cnf` claim.
 */
export function certThumbprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('base64url');
}
