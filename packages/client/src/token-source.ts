/**
 * Where a client gets the access token it sends as `authorization: Bearer …`. Implementations:
 * {@link staticTokenSource}, `clientCredentialsSource`, `passwordSource`.
 */
export interface TokenSource {
  /** A token that is valid now. Never log it. Rejects with a `TokenSourceError`. */
  getToken(): Promise<string>;
  /**
   * Drops the current token so the next `getToken()` fetches a new one (e.g. the server answered
   * UNAUTHENTICATED). With `token`, only if that token is still the current one (the built-in sources
   * also ignore it for a token less than a second old, so a rejecting server cannot cause a fetch storm).
   */
  invalidate?(token?: string): void;
  /** Releases the channel to the auth service (if the source opened it). */
  close?(): void;
}

/** A source that always returns `token` (tests, scripts, tokens obtained elsewhere). */
export function staticTokenSource(token: string): TokenSource {
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError('staticTokenSource: token must be a non-empty string');
  }
  return { getToken: () => Promise.resolve(token) };
}
