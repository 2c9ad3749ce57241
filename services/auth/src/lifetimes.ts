import type { AuthConfig } from './config.js';
import { entryJson, isCasConflict, jsonValue } from './stores/kv.js';
import type { RecordBucket } from './stores/record-mac.js';

/** The KV key (in `AUTHMESH_KEYS`, sealed with its record MAC) of the lifetimes the service runs with. */
export const LIFETIMES_KEY = 'lifetimes';

/**
 * The token lifetimes retention depends on, seconds. What the auth service runs with is stored, so
 * that commands run from another shell (another environment) keep what the service needs instead of
 * what their own environment says: the revocation stream's max age, the session buckets' max age, how
 * long a retired key stays published, how long a revocation event lasts.
 */
export interface Lifetimes {
  /** `AUTHMESH_ACCESS_TTL`. */
  readonly accessTtlSec: number;
  /** `AUTHMESH_CLOCK_SKEW`. */
  readonly clockSkewSec: number;
  /** `AUTHMESH_REFRESH_ABSOLUTE_TTL`. */
  readonly refreshAbsoluteTtlSec: number;
}

/** The lifetimes of a configuration. */
export function lifetimesOf(config: AuthConfig): Lifetimes {
  return {
    accessTtlSec: config.accessTtlSec,
    clockSkewSec: config.clockSkewSec,
    refreshAbsoluteTtlSec: config.refreshAbsoluteTtlSec,
  };
}

/** Each lifetime the longer of the two. */
export function longest(a: Lifetimes, b: Lifetimes | undefined): Lifetimes {
  if (b === undefined) return a;
  return {
    accessTtlSec: Math.max(a.accessTtlSec, b.accessTtlSec),
    clockSkewSec: Math.max(a.clockSkewSec, b.clockSkewSec),
    refreshAbsoluteTtlSec: Math.max(a.refreshAbsoluteTtlSec, b.refreshAbsoluteTtlSec),
  };
}

const CAS_ATTEMPTS = 8;

/**
 * Stores the service's lifetimes, raised to those already stored (never lowered: replicas with different
 * settings, or a restart with a shorter TTL, must not shorten what tokens issued earlier still need), and
 * returns what is stored now. Compare-and-set, so racing replicas all end on the longest.
 */
export async function publishLifetimes(kv: RecordBucket, own: Lifetimes): Promise<Lifetimes> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const entry = await kv.get(LIFETIMES_KEY);
    const stored = parseLifetimes(entryJson<unknown>(entry));
    const merged = longest(own, stored);
    if (stored !== undefined && sameLifetimes(stored, merged)) return stored;
    try {
      if (entry !== null && entry.operation === 'PUT')
        await kv.update(LIFETIMES_KEY, jsonValue(merged), entry.revision);
      else if (attempt === 0) await kv.create(LIFETIMES_KEY, jsonValue(merged));
      // create lost although nothing readable is there: the record is refused by its MAC; replace it.
      else await kv.put(LIFETIMES_KEY, jsonValue(merged));
      return merged;
    } catch (err) {
      if (!isCasConflict(err)) throw err;
    }
  }
  throw new Error(`storing the lifetimes lost ${CAS_ATTEMPTS} compare-and-set races in a row`);
}

/** The lifetimes the service stored, or undefined when it has not run yet (or the record is refused). */
export async function readLifetimes(kv: RecordBucket): Promise<Lifetimes | undefined> {
  return parseLifetimes(entryJson<unknown>(await kv.get(LIFETIMES_KEY)));
}

function parseLifetimes(value: unknown): Lifetimes | undefined {
  const v = value as Partial<Lifetimes> | undefined;
  const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
  return v && ok(v.accessTtlSec) && ok(v.clockSkewSec) && ok(v.refreshAbsoluteTtlSec)
    ? {
        accessTtlSec: v.accessTtlSec,
        clockSkewSec: v.clockSkewSec,
        refreshAbsoluteTtlSec: v.refreshAbsoluteTtlSec,
      }
    : undefined;
}

/** True when both hold the same lifetimes. */
export function sameLifetimes(a: Lifetimes, b: Lifetimes): boolean {
  return (
    a.accessTtlSec === b.accessTtlSec &&
    a.clockSkewSec === b.clockSkewSec &&
    a.refreshAbsoluteTtlSec === b.refreshAbsoluteTtlSec
  );
}
