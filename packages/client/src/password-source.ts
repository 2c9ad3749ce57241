import { status } from '@grpc/grpc-js';
import type { TokenResponse__Output } from './proto/index.js';
import { callUnary, connectAuth, toList, type AuthConnectionOptions } from './auth-client.js';
import { CachedToken, parseTiming, type RefreshTimingOptions } from './cached-token.js';
import { grpcCodeOf } from './errors.js';
import type { TokenSource } from './token-source.js';

/** Options of {@link passwordSource}. */
export interface PasswordSourceOptions extends AuthConnectionOptions, RefreshTimingOptions {
  username: string;
  /** Kept in memory for re-login when the session ends; never logged or put in an error. */
  password: string;
  audience?: string | readonly string[];
  scope?: string | readonly string[];
}

/** Answers to `Refresh` that mean the refresh token is dead (rotated, revoked, expired): log in again. */
const deadRefresh = new Set<number>([
  status.UNAUTHENTICATED,
  status.INVALID_ARGUMENT,
  status.PERMISSION_DENIED,
  status.NOT_FOUND,
]);

/**
 * A token source for a user: logs in once with the password grant, then renews with `Refresh`
 * (each call rotates the refresh token, so only one refresh is ever in flight), and logs in again
 * when the refresh token is dead.
 *
 * A refresh whose answer is lost (timeout) leaves the rotated token unknown to us; the next attempt
 * presents the old one, and within the auth service's retry grace (AUTHMESH_REFRESH_RETRY_GRACE) it
 * answers with the same successor. Past the grace that is reuse and revokes the session (RFC 9700
 * §4.14.2); the source then logs in again: a new session, never a silent failure.
 */
export function passwordSource(options: PasswordSourceOptions): TokenSource {
  const owner = 'passwordSource';
  if (typeof options.username !== 'string' || options.username.length === 0) {
    throw new TypeError(`${owner}: options.username must be a non-empty string`);
  }
  if (typeof options.password !== 'string' || options.password.length === 0) {
    throw new TypeError(`${owner}: options.password must be a non-empty string`);
  }
  const timing = parseTiming(options, owner);
  const conn = connectAuth(options, owner);
  const audience = toList(options.audience);
  const scope = toList(options.scope);
  let refreshToken = '';
  let refreshUsableUntil = 0;

  const accept = (res: TokenResponse__Output, startedAt: number) => {
    refreshToken = res.refresh_token;
    // A refresh token without a stated lifetime is tried until the server refuses it.
    refreshUsableUntil =
      res.refresh_expires_in > 0 ? startedAt + res.refresh_expires_in * 1000 - 1000 : Infinity;
    return { accessToken: res.access_token, expiresInSec: res.expires_in };
  };

  const login = async () => {
    const startedAt = timing.now();
    const req = { password: { username: options.username, password: options.password }, audience, scope };
    return accept(
      await callUnary<typeof req, TokenResponse__Output>(conn, conn.client.IssueToken, req),
      startedAt,
    );
  };

  const fetch = async () => {
    const startedAt = timing.now();
    if (refreshToken && startedAt < refreshUsableUntil) {
      const req = { refresh_token: refreshToken, scope: [] as string[] };
      try {
        return accept(
          await callUnary<typeof req, TokenResponse__Output>(conn, conn.client.Refresh, req),
          startedAt,
        );
      } catch (err) {
        const code = grpcCodeOf(err);
        if (code === undefined || !deadRefresh.has(code)) throw err;
        refreshToken = '';
      }
    }
    return login();
  };

  const cached = new CachedToken(fetch, timing, 'login');
  return {
    getToken: () => cached.getToken(),
    invalidate: (token) => cached.invalidate(token),
    close() {
      cached.close();
      refreshToken = '';
      conn.close();
    },
  };
}
