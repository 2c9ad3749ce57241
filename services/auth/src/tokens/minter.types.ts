import type { ActorClaim } from '@authmesh/interceptor';

export interface MintRequest {
  sub: string;
  clientId: string;
  aud: string[];
  scope: string[];
  roles: string[];
  /** Session (refresh family) id, for password-grant tokens. */
  sid?: string;
  act?: ActorClaim;
  /** RFC 8705 §3.1 confirmation: base64url SHA-256 of the client certificate's DER (`cnf.x5t#S256`). */
  certThumbprint?: string;
  /** Lifetime, seconds; default the configured access TTL. */
  ttlSec?: number;
}

export interface MintedToken {
  token: string;
  jti: string;
  iat: number;
  exp: number;
  kid: string;
}

/** Signs RFC 9068 access tokens with the current key. Implemented in ./minter.ts. */
export interface TokenMinter {
  mint(request: MintRequest): Promise<MintedToken>;
}
