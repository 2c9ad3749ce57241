/** Retry delays after consecutive failures to reach the auth service. */
export interface BackoffOptions {
  /** Delay after the first failure, ms (default 250). */
  initialMs: number;
  /** Upper bound of the delay, ms (default 30000). */
  maxMs: number;
}

/** Defaults of {@link BackoffOptions}. */
export const defaultBackoff: BackoffOptions = { initialMs: 250, maxMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so clients that
 * failed together do not retry together, yet none retries immediately. `failures` counts from 1.
 */
export function backoffDelay(
  failures: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(failures - 1, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}
