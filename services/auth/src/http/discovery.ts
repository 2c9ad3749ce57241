import type { JSONWebKeySet } from 'jose';

/** The path of the public JWKS under the issuer. */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * The metadata document (RFC 8414 §2 fields, served at the OpenID Connect discovery path so OIDC-minded
 * validators find it). Only what is true: there is no HTTP token or authorization endpoint (tokens are
 * issued over gRPC) and no ID tokens, so none of those fields appear; the signing algorithms of access
 * tokens are listed under `access_token_signing_alg_values_supported`.
 */
export function discoveryDocument(issuer: string, jwks: JSONWebKeySet): Record<string, unknown> {
  const algs = [
    ...new Set(jwks.keys.map((k) => k.alg).filter((a): a is string => typeof a === 'string')),
  ].sort();
  return {
    issuer,
    jwks_uri: `${issuer.replace(/\/+$/, '')}${JWKS_PATH}`,
    grant_types_supported: [
      'password',
      'client_credentials',
      'refresh_token',
      'urn:ietf:params:oauth:grant-type:token-exchange',
    ],
    access_token_signing_alg_values_supported: algs,
  };
}
