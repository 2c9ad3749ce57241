/** The actor of a delegated (exchanged) token, nested for chains (RFC 8693 §4.1). */
export interface ActorClaim {
  sub: string;
  act?: ActorClaim;
}

/** The claims of an authmesh access token (RFC 9068 plus authmesh's own). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  client_id: string;
  /** Space-separated granted scope. */
  scope?: string;
  roles?: string[];
  /** Session (refresh family) id; present on password-grant tokens and their refreshes. */
  sid?: string;
  act?: ActorClaim;
  [claim: string]: unknown;
}

/** The verified caller, as handlers see it. Immutable; shared between calls with the same token. */
export interface Principal {
  readonly sub: string;
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly roles: ReadonlySet<string>;
  readonly aud: readonly string[];
  readonly jti: string;
  readonly sid: string | undefined;
  readonly act: ActorClaim | undefined;
  /** Issued-at and expiry, unix seconds. */
  readonly iat: number;
  readonly exp: number;
  /** The key id that signed the token. */
  readonly kid: string;
  /** The raw access token, for propagation (token exchange). Never log it. */
  readonly token: string;
  readonly claims: Readonly<AccessTokenClaims>;
}
