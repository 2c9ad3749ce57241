import type { TokenResponse__Output } from './proto/index.js';
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
  /**
   * Scope to request (space-separated or a list): required, and what this service needs, no more. The
   * auth service grants every scope a client is allowed when none is asked for, so a source that asked
   * for nothing would carry all of them (least privilege, RFC 6749 §3.3).
   */
  scope: string | readonly string[];
}

/**
 * A token source for a service's own identity: the OAuth 2.0 client credentials grant
 * (RFC 6749 §4.4), fetched on first use and renewed before expiry. There is no refresh token for
 * this grant (RFC 6749 §4.4.3), so renewal is a new grant.
 *
 * @example
 * const source = clientCredentialsSource({ authTarget: '127.0.0.1:50051', clientId: 'billing', clientSecret,
 *   audience: 'echo', scope: 'echo:read' });
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
  const scope = parseScope(options.scope, owner);
  const timing = parseTiming(options, owner);
  const conn = connectAuth(options, owner);
  const request = {
    client_credentials: { client_id: options.clientId, client_secret: options.clientSecret },
    audience: toList(options.audience),
    scope,
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

/** The requested scope: at least one, since an empty request means "everything allowed" to the auth service. */
function parseScope(value: unknown, owner: string): string[] {
  const valid =
    typeof value === 'string' || (Array.isArray(value) && value.every((s) => typeof s === 'string'));
  const scope = valid ? toList(value as string | readonly string[]) : [];
  if (scope.length === 0) {
    throw new TypeError(
      `${owner}: options.scope is required: the scopes this service needs (asking for none would grant every scope the client is allowed)`,
    );
  }
  return scope;
}
