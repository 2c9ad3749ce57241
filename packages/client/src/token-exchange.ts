import * as grpc from '@grpc/grpc-js';
import type { TokenResponse__Output } from './proto/index.js';
import { callUnary, connectAuth, toList, type AuthConnectionOptions } from './auth-client.js';
import { parseTiming, tokenWindow, type RefreshTimingOptions } from './cached-token.js';
import { TokenSourceError, toTokenSourceError } from './errors.js';
import type { TokenSource } from './token-source.js';

/** Options of {@link createTokenExchanger}. */
export interface TokenExchangerOptions extends AuthConnectionOptions, RefreshTimingOptions {
  /** The calling service's own identity (usually `clientCredentialsSource`): ExchangeToken requires it. */
  clientSource: TokenSource;
  /** Most exchanged tokens kept, least recently used dropped first (default 10000). */
  maxEntries?: number;
}

/** Propagates a caller's identity to downstream services (RFC 8693 token exchange). */
export interface TokenExchanger {
  /**
   * A token for `audience` with the same `sub` as `principal`, and `act` naming this service.
   * Cached per (jti, audience, scope) until shortly before it expires; one request per key in flight.
   * Rejects with a `TokenSourceError` whose `grpcCode` is the auth service's answer.
   */
  exchange(
    principal: { readonly jti: string; readonly token: string },
    audience: string,
    scope?: string | readonly string[],
  ): Promise<string>;
  close(): void;
}

interface Entry {
  readonly token: string;
  readonly refreshAt: number;
}

/**
 * Creates a {@link TokenExchanger}. A handler that calls another service exchanges the caller's
 * token (`getPrincipal(call).token`) for one scoped to that service, instead of forwarding it:
 * the original token's audience is this service, and forwarding it would make it valid elsewhere
 * (RFC 8725 §3.10, RFC 8693 §1.1).
 *
 * @example
 * const token = await exchanger.exchange(getPrincipal(call), 'echo-b');
 * const md = new grpc.Metadata(); md.set('authorization', `Bearer ${token}`);
 */
export function createTokenExchanger(options: TokenExchangerOptions): TokenExchanger {
  const owner = 'createTokenExchanger';
  if (typeof options.clientSource?.getToken !== 'function') {
    throw new TypeError(`${owner}: options.clientSource must be a TokenSource`);
  }
  const maxEntries = options.maxEntries ?? 10_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new TypeError(`${owner}: options.maxEntries must be an integer >= 1`);
  const timing = parseTiming(options, owner);
  const conn = connectAuth(options, owner);
  const { clientSource } = options;
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<string>>();
  let closed = false;

  const request = async (key: string, subjectToken: string, audience: string, scope: string[]) => {
    const startedAt = timing.now();
    const own = await clientSource.getToken();
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${own}`);
    const req = { subject_token: subjectToken, audience, scope };
    let res: TokenResponse__Output;
    try {
      res = await callUnary<typeof req, TokenResponse__Output>(conn, conn.client.ExchangeToken, req, md);
    } catch (err) {
      // Our own token may be the one refused (revoked, rotated key): fetch a fresh one next time.
      if ((err as { code?: unknown }).code === grpc.status.UNAUTHENTICATED) clientSource.invalidate?.(own);
      throw err;
    }
    const { refreshAt } = tokenWindow(startedAt, res.expires_in, timing);
    if (!closed) {
      cache.set(key, { token: res.access_token, refreshAt });
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    }
    return res.access_token;
  };

  return {
    exchange(principal, audience, scope) {
      if (closed)
        return Promise.reject(
          new TokenSourceError('ERR_TOKEN_SOURCE_CLOSED', 'authmesh: token exchanger closed', undefined),
        );
      const scopes = toList(scope).sort();
      const key = `${principal.jti}\u0000${audience}\u0000${scopes.join(' ')}`;
      const hit = cache.get(key);
      if (hit) {
        cache.delete(key);
        if (timing.now() < hit.refreshAt) {
          cache.set(key, hit);
          return Promise.resolve(hit.token);
        }
      }
      const running = inflight.get(key);
      if (running) return running;
      const p = request(key, principal.token, audience, scopes)
        .catch((err: unknown) => {
          throw toTokenSourceError(err, 'token exchange');
        })
        .finally(() => inflight.delete(key));
      inflight.set(key, p);
      return p;
    },
    close() {
      closed = true;
      cache.clear();
      conn.close();
    },
  };
}
