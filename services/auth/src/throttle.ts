/** Options of {@link LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failures per username before logins for it are delayed; default 5. */
  usernameThreshold?: number;
  /** Failures per peer address before logins from it are delayed; default 50 (shared NATs, tests). */
  peerThreshold?: number;
  /** First delay window once a threshold is reached, ms; doubles per further failure. Default 1000. */
  baseDelayMs?: number;
  /** Longest delay window, ms; default 15 minutes. */
  maxDelayMs?: number;
  /** Most entries kept per kind (username, peer); the oldest are evicted first. Default 10000. */
  maxEntries?: number;
  /** Clock, ms; default `Date.now` (tests freeze it). */
  now?: () => number;
}

interface Entry {
  failures: number;
  lockedUntil: number;
  lastFailure: number;
}

/**
 * Progressive throttling of failed logins per username and per peer: after `threshold` failures a
 * delay window starts and doubles with every further failure up to `maxDelayMs`; a success resets the
 * username. State is in-process (each replica throttles on its own) and bounded in memory.
 */
export class LoginThrottle {
  private readonly usernames = new Map<string, Entry>();
  private readonly peers = new Map<string, Entry>();
  private readonly usernameThreshold: number;
  private readonly peerThreshold: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(options: LoginThrottleOptions = {}) {
    const positiveInt = (name: keyof LoginThrottleOptions, value: number): number => {
      if (!Number.isInteger(value) || value < 1)
        throw new TypeError(`LoginThrottle: options.${name} must be a positive integer`);
      return value;
    };
    this.usernameThreshold = positiveInt('usernameThreshold', options.usernameThreshold ?? 5);
    this.peerThreshold = positiveInt('peerThreshold', options.peerThreshold ?? 50);
    this.baseDelayMs = positiveInt('baseDelayMs', options.baseDelayMs ?? 1000);
    this.maxDelayMs = positiveInt('maxDelayMs', options.maxDelayMs ?? 15 * 60_000);
    this.maxEntries = positiveInt('maxEntries', options.maxEntries ?? 10_000);
    if (options.now !== undefined && typeof options.now !== 'function')
      throw new TypeError('LoginThrottle: options.now must be a function');
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until a login for `username` from `peer` may be tried again; 0 when allowed now. */
  retryAfterMs(username: string, peer: string): number {
    const now = this.now();
    const wait = (e: Entry | undefined) => (e && e.lockedUntil > now ? e.lockedUntil - now : 0);
    return Math.max(wait(this.usernames.get(username)), wait(this.peers.get(peer)));
  }

  /** Records a failed login (wrong password or unknown user alike). */
  failed(username: string, peer: string): void {
    const now = this.now();
    this.bump(this.usernames, username, this.usernameThreshold, now);
    this.bump(this.peers, peer, this.peerThreshold, now);
  }

  /** Records a successful login: the username's counter starts over (the peer's does not). */
  succeeded(username: string): void {
    this.usernames.delete(username);
  }

  /** Entries held (both kinds), for tests and metrics. */
  get size(): number {
    return this.usernames.size + this.peers.size;
  }

  private bump(map: Map<string, Entry>, key: string, threshold: number, now: number): void {
    let entry = map.get(key);
    // An entry idle for longer than the longest window is forgotten: the slate is clean again.
    if (entry && now - entry.lastFailure > this.maxDelayMs) entry = undefined;
    entry ??= { failures: 0, lockedUntil: 0, lastFailure: now };
    entry.failures += 1;
    entry.lastFailure = now;
    if (entry.failures >= threshold) {
      const exponent = Math.min(entry.failures - threshold, 30);
      entry.lockedUntil = now + Math.min(this.baseDelayMs * 2 ** exponent, this.maxDelayMs);
    }
    // Re-insert so Map order is least-recently-failed first; evict from the front when full.
    map.delete(key);
    map.set(key, entry);
    while (map.size > this.maxEntries) {
      const oldest = map.keys().next().value as string;
      map.delete(oldest);
    }
  }
}

/** The address part of a grpc-js peer string (`ipv4:127.0.0.1:5000` → `127.0.0.1`), the throttle key. */
export function peerAddress(peer: string): string {
  const withoutScheme = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const bracketed = /^\[([^\]]+)\]:\d+$/.exec(withoutScheme);
  if (bracketed) return bracketed[1]!;
  const lastColon = withoutScheme.lastIndexOf(':');
  return lastColon > 0 && withoutScheme.indexOf(':') === lastColon
    ? withoutScheme.slice(0, lastColon)
    : withoutScheme;
}
