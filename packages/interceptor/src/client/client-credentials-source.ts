import type { TokenResponse__Output } from '../proto/index.js';
import { callUnary, connectAuth, toList, type AuthConnectionOptions } from './auth-client.js';
import { CachedToken, parseTiming, type RefreshTimingOptions } from './cached-token.js';
import type { TokenSource } from './token-source.js';

/** Options of {@link clientCredentialsSource}. */
export interface ClientCredentialsSourceOptions extends AuthConnectionOptions, RefreshTimingOptions {
  clientId: string;
  /** The client's secret. Kept in memory only; never logged or put in an error. */
  clientSecret: string;
  /** Audience(s) to request; default: the auth service's default audience. */
  audience?: string | readonly string[];
  /** Scope to request (space-separated or a list); default: everything the client is allowed. */
  scope?: string | readonly string[];
}

/**
 * A token source for a service's own identity: the OAuth 2.0 client credentials grant
 * (RFC 6749 §4.4), fetched on first use and renewed before expiry. There is no refresh token for
 * this grant (RFC 6749 §4.4.3), so renewal is a new grant.
 *
 * @example
 * const source = clientCredentialsSource({ authTarget: '127.0.0.1:50051', clientId: 'billing', clientSecret });
 * const echo = new Echo(target, grpc.credentials.createInsecure(), { interceptors: [authInterceptor(source)] });
 */
export function clientCredentialsSource(options: ClientCredentialsSourceOptions): TokenSource {
  const owner = 'clientCredentialsSource';
  if (typeof options.clientId !== 'string' || options.clientId.length === 0) {
    throw new TypeError(`${owner}: options.clientId must be a non-empty string`);
  }
  if (typeof options.clientSecret !== 'string' || options.clientSecret.length === 0) {
    throw new TypeError(`${owner}: options.clientSecret must be a non-empty string`);
  }
  const timing = parseTiming(options, owner);
  const conn = connectAuth(options, owner);
  const request = {
    client_credentials: { client_id: options.clientId, client_secret: options.clientSecret },
    audience: toList(options.audience),
    scope: toList(options.scope),
  };
  const cached = new CachedToken(
    async () => {
      const res = await callUnary<typeof request, TokenResponse__Output>(
        conn,
        conn.client.IssueToken,
        request,
      );
      return { accessToken: res.access_token, expiresInSec: res.expires_in };
    },
    timing,
    'client_credentials grant',
  );
  return {
    getToken: () => cached.getToken(),
    invalidate: (token) => cached.invalidate(token),
    close() {
      cached.close();
      conn.close();
    },
  };
}
