import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClosableJwksSource } from './jwks/sources.js';
import type { JwksSource } from './jwks/key-store.types.js';
import type { RevocationFeedStats } from './revocation/feed.js';
import type { RevocationFeed } from './revocation/revocation.types.js';
import type { RejectionInfo } from './server/options.js';
import type { Authenticator } from './verify/authenticator.js';

/** What `authmeshMetrics` can read from: the feed (stats at scrape time, lag per applied event). */
export interface AuthmeshMetricsOptions {
  /** The revocation feed: set size, staleness, applied/dropped events, revocation lag. */
  feed?: Pick<RevocationFeed, 'onRevoked' | 'isReady'> & { stats(): RevocationFeedStats };
}

/** Interceptor-side Prometheus metrics registered in the host's registry. */
export interface AuthmeshMetrics {
  /** Pass as `createServerAuth({ onRejected })`: counts refused calls by reason code (never the token). */
  readonly onRejected: (info: RejectionInfo) => void;
  /**
   * Wraps the authenticator of `createServerAuth` (pass this object as its `metrics` option rather
   * than calling this yourself): warm hits and misses are plain integer increments read at scrape time.
   */
  instrument(auth: Authenticator): Authenticator;
  /** Wraps a JWKS source so every fetch is counted by outcome and timed (keeps `close()`). */
  countJwks<S extends JwksSource | ClosableJwksSource>(source: S): S;
  /** Starts reading `feed` (as `options.feed` does), for hosts that build the feed after the key store. */
  watchFeed(feed: NonNullable<AuthmeshMetricsOptions['feed']>): void;
  /** Stops listening to the feed. */
  close(): void;
}

/**
 * Registers authmesh's interceptor metrics in `registry` (the host's; it decides where to expose it).
 * Nothing here runs per accepted call: rejections are counted on the (rare) rejection path, feed
 * figures are read by `collect()` at scrape time, lag is observed once per applied revocation.
 *
 * @example
 * const metrics = authmeshMetrics(registry, { feed });
 * const auth = createServerAuth({ ..., onRejected: metrics.onRejected });
 */
export function authmeshMetrics(registry: Registry, options: AuthmeshMetricsOptions = {}): AuthmeshMetrics {
  if (typeof registry?.registerMetric !== 'function')
    throw new TypeError('registry: must be a prom-client Registry');
  const registers = [registry];

  const rejected = new Counter({
    name: 'authmesh_verifications_rejected_total',
    help: 'Calls refused by the interceptor, by reason code',
    labelNames: ['reason'],
    registers,
  });
  const jwksFetches = new Counter({
    name: 'authmesh_jwks_refreshes_total',
    help: 'JWKS fetches, by outcome',
    labelNames: ['outcome'],
    registers,
  });
  const jwksSeconds = new Histogram({
    name: 'authmesh_jwks_refresh_seconds',
    help: 'Duration of a JWKS fetch',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers,
  });

  // Plain integers on the hot path, published by collect() at scrape time.
  let warmHits = 0;
  let warmMisses = 0;
  let coldOk = 0;
  let coldRejected = 0;
  new Counter({
    name: 'authmesh_verifications_total',
    help: 'Token verifications: warm (cached verdict) or cold (signature checked), by outcome',
    labelNames: ['path', 'outcome'],
    registers,
    collect() {
      this.reset();
      this.inc({ path: 'warm', outcome: 'ok' }, warmHits);
      this.inc({ path: 'cold', outcome: 'ok' }, coldOk);
      this.inc({ path: 'cold', outcome: 'rejected' }, coldRejected);
    },
  });
  new Gauge({
    name: 'authmesh_token_cache_hit_ratio',
    help: 'Share of token lookups answered from the verified-token cache since start',
    registers,
    collect() {
      const total = warmHits + warmMisses;
      this.set(total === 0 ? 0 : warmHits / total);
    },
  });
  const verifySeconds = new Histogram({
    name: 'authmesh_verify_seconds',
    help: 'Cold-path verification time (signature, claims, revocation); warm hits are not timed',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1],
    registers,
  });

  let unsubscribe: (() => void) | undefined;
  const watchFeed = (feed: NonNullable<AuthmeshMetricsOptions['feed']>): void => {
    if (typeof feed?.stats !== 'function' || typeof feed.onRevoked !== 'function')
      throw new TypeError('feed: must be a revocation feed (stats(), onRevoked())');
    if (unsubscribe !== undefined) throw new TypeError('feed: already watching one');
    const sample = <K extends keyof RevocationFeedStats>(key: K, scale = 1) =>
      function (this: Gauge) {
        const v = Number(feed.stats()[key] ?? 0);
        this.set(Number.isFinite(v) ? v * scale : -1);
      };
    const gauge = (name: string, help: string, collect: (this: Gauge) => void) =>
      new Gauge({ name, help, registers, collect });
    gauge('authmesh_revocation_set_size', 'Revocation entries held', sample('entries'));
    gauge('authmesh_revocation_pending', 'Replayed entries not verified yet', sample('pending'));
    gauge(
      'authmesh_revocation_staleness_seconds',
      'Seconds since the feed was last known current (-1: never)',
      sample('stalenessMs', 1 / 1000),
    );
    // Counts kept by the feed, published as Counters (read at scrape time, never decreasing).
    const counter = (name: string, help: string, key: keyof RevocationFeedStats) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          const v = Number(feed.stats()[key] ?? 0);
          this.reset();
          if (Number.isFinite(v) && v > 0) this.inc(v);
        },
      });
    counter('authmesh_revocation_events_applied_total', 'Verified revocation events applied', 'applied');
    counter(
      'authmesh_revocation_events_dropped_total',
      'Revocation events dropped (bad signature, malformed)',
      'droppedEvents',
    );
    gauge(
      'authmesh_revocation_replay_seconds',
      'Duration of the start-up replay',
      sample('replayMs', 1 / 1000),
    );
    counter(
      'authmesh_revocation_consumer_restarts_total',
      'Consumers re-created by the feed',
      'consumerRestarts',
    );
    gauge(
      'authmesh_revocation_events_parked',
      'Stream events waiting for their signing key (each holds the feed below it)',
      sample('parked'),
    );
    counter(
      'authmesh_revocation_events_throttled_total',
      'Event verifications skipped or delayed because the CPU budget for bad events was spent',
      'throttledEvents',
    );
    const lag = new Histogram({
      name: 'authmesh_revocation_lag_seconds',
      help: 'From a revocation event being issued (its `at`) to this process applying it (live events only)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers,
    });
    unsubscribe = feed.onRevoked((event) => {
      // Replayed events are old by design; only live ones say how fast revocations travel.
      // `at` has one-second resolution (DESIGN.md), so sub-second lags read up to 1 s high.
      if (feed.isReady()) lag.observe(Math.max(0, Date.now() / 1000 - event.at));
    });
  };
  if (options.feed !== undefined) watchFeed(options.feed);

  return {
    onRejected: (info) => rejected.inc({ reason: info.code }),
    instrument: (auth) => ({
      cached(token) {
        const principal = auth.cached(token);
        if (principal !== undefined) warmHits++;
        else warmMisses++;
        return principal;
      },
      // Not async: one more promise frame on every cold verification otherwise.
      authenticate(token, anyAudience) {
        const end = verifySeconds.startTimer();
        return auth.authenticate(token, anyAudience).then(
          (principal) => {
            coldOk++;
            end();
            return principal;
          },
          (err: unknown) => {
            coldRejected++;
            end();
            throw err;
          },
        );
      },
      stillValid: (principal) => auth.stillValid(principal),
      evictInvalid: () => auth.evictInvalid(),
      cache: auth.cache,
    }),
    countJwks<S extends JwksSource | ClosableJwksSource>(source: S): S {
      const counted = async () => {
        const end = jwksSeconds.startTimer();
        try {
          const jwks = await source();
          jwksFetches.inc({ outcome: 'ok' });
          return jwks;
        } catch (err) {
          jwksFetches.inc({ outcome: 'error' });
          throw err;
        } finally {
          end();
        }
      };
      const close = (source as Partial<ClosableJwksSource>).close;
      return (close ? Object.assign(counted, { close: () => close.call(source) }) : counted) as S;
    },
    watchFeed,
    close: () => unsubscribe?.(),
  };
}
