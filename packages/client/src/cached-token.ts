import { backoffDelay, defaultBackoff, type BackoffOptions } from './backoff.js';
import { TokenSourceError, toTokenSourceError } from './errors.js';

/** A token as the auth service returned it. */
export interface FetchedToken {
  readonly accessToken: string;
  /** Lifetime in seconds, from `TokenResponse.expires_in`. */
  readonly expiresInSec: number;
}

/** Timing knobs shared by the token sources and the exchanger. */
export interface RefreshTimingOptions {
  /** Refresh once this fraction of the lifetime has passed (default 0.8) ... */
  refreshRatio?: number;
  /** ... or this many ms before expiry, whichever comes first (default 30000). */
  refreshAheadMs?: number;
  /** Backoff after failed requests (defaults: 250 ms doubling up to 30 s, with jitter). */
  backoff?: Partial<BackoffOptions>;
  /** Clock in ms (default `Date.now`); tests freeze or advance it. */
  now?: () => number;
  /** Random in [0, 1) for jitter (default `Math.random`). */
  random?: () => number;
}

/** Validated timing, as {@link CachedToken} uses it. */
export interface RefreshTiming {
  readonly refreshRatio: number;
  readonly refreshAheadMs: number;
  readonly backoff: BackoffOptions;
  readonly now: () => number;
  readonly random: () => number;
}

/** Checks the timing options once, at construction; a TypeError names the bad option. */
export function parseTiming(options: RefreshTimingOptions, owner: string): RefreshTiming {
  const refreshRatio = options.refreshRatio ?? 0.8;
  if (!(refreshRatio > 0 && refreshRatio < 1))
    throw new TypeError(`${owner}: options.refreshRatio must be in (0, 1)`);
  const refreshAheadMs = options.refreshAheadMs ?? 30_000;
  if (!(refreshAheadMs >= 0)) throw new TypeError(`${owner}: options.refreshAheadMs must be >= 0`);
  const backoff = { ...defaultBackoff, ...options.backoff };
  if (!(backoff.initialMs > 0) || !(backoff.maxMs >= backoff.initialMs)) {
    throw new TypeError(`${owner}: options.backoff needs 0 < initialMs <= maxMs`);
  }
  return {
    refreshRatio,
    refreshAheadMs,
    backoff,
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
  };
}

/** When a token obtained at `startedAt` should be refreshed and when it stops being usable. */
export function tokenWindow(startedAt: number, expiresInSec: number, timing: RefreshTiming) {
  // Lifetimes count from when the request was sent: the conservative end of the round trip.
  const lifetimeMs = Math.max(0, expiresInSec * 1000);
  const expiresAt = startedAt + lifetimeMs;
  const refreshAt =
    startedAt + Math.min(lifetimeMs * timing.refreshRatio, lifetimeMs - timing.refreshAheadMs);
  // Stop handing a token out a little before it expires, so it does not die in flight.
  const usableUntil = expiresAt - Math.min(5000, lifetimeMs * 0.05);
  return { expiresAt, refreshAt: Math.max(startedAt, refreshAt), usableUntil };
}

interface Current {
  readonly token: string;
  readonly obtainedAt: number;
  readonly refreshAt: number;
  readonly usableUntil: number;
}

/**
 * One access token kept fresh by `fetch`: single flight (however many callers wait, one request is
 * in flight), refreshed ahead of expiry in the background while the current token is served, and
 * backoff with jitter after failures. A caller with no usable token during a backoff gets the last
 * error at once, rather than queueing on a service that is known to be down.
 */
export class CachedToken {
  private current: Current | undefined;
  private inflight: Promise<string> | undefined;
  private failures = 0;
  private retryAt = 0;
  private lastError: TokenSourceError | undefined;
  private closed = false;

  constructor(
    private readonly fetch: () => Promise<FetchedToken>,
    private readonly timing: RefreshTiming,
    private readonly what: string,
  ) {}

  getToken(): Promise<string> {
    if (this.closed)
      return Promise.reject(
        new TokenSourceError('ERR_TOKEN_SOURCE_CLOSED', 'authmesh: token source closed', undefined),
      );
    const now = this.timing.now();
    const cur = this.current;
    if (cur && now < cur.refreshAt) return Promise.resolve(cur.token);
    if (cur && now < cur.usableUntil) {
      // Refresh in the background; the failure is kept for later callers, this one is served.
      if (!this.inflight && now >= this.retryAt) this.start().catch(() => {});
      return Promise.resolve(cur.token);
    }
    if (this.inflight) return this.inflight;
    if (now < this.retryAt && this.lastError) return Promise.reject(this.lastError);
    return this.start();
  }

  /**
   * Forgets the current token (e.g. the server rejected it); with `token`, only if it is still current
   * and at least a second old. A server that keeps rejecting fresh tokens (a misconfigured audience)
   * then costs the auth service one request per second, not one per failed call; a second also covers
   * `iat` granularity after a `sub`/`all` revocation.
   */
  invalidate(token?: string): void {
    const cur = this.current;
    if (!cur) return;
    if (token === undefined) this.current = undefined;
    else if (cur.token === token && this.timing.now() - cur.obtainedAt >= 1000) this.current = undefined;
  }

  close(): void {
    this.closed = true;
    this.current = undefined;
  }

  private start(): Promise<string> {
    const startedAt = this.timing.now();
    const p = this.fetch().then(
      (res) => {
        const { refreshAt, usableUntil } = tokenWindow(startedAt, res.expiresInSec, this.timing);
        if (!this.closed)
          this.current = { token: res.accessToken, obtainedAt: startedAt, refreshAt, usableUntil };
        this.failures = 0;
        this.retryAt = 0;
        this.lastError = undefined;
        this.inflight = undefined;
        return res.accessToken;
      },
      (err: unknown) => {
        this.failures += 1;
        this.retryAt =
          this.timing.now() + backoffDelay(this.failures, this.timing.backoff, this.timing.random);
        this.lastError = toTokenSourceError(err, this.what);
        this.inflight = undefined;
        throw this.lastError;
      },
    );
    this.inflight = p;
    return p;
  }
}
