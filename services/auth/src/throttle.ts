import type { JetStreamClient, KvEntry } from 'nats';
import { BUCKETS, THROTTLE_MAX_AGE_SEC } from './nats.js';
import { bindHotBucket, entryJson, isCasConflict, jsonValue, type KvPipeline, nameKey } from './stores/kv.js';
import type { RecordBucket, RecordIntegrity } from './stores/record-mac.js';

/** Options of {@link LoginThrottle}. Budgets count failed (or not yet known) attempts per window. */
export interface LoginThrottleOptions {
  /** `AUTHMESH_LOGIN_MAX_FAILURES`: attempts per (username, peer) and per (client id, peer) before delays; default 5. */
  maxFailures?: number;
  /** Attempts per peer across usernames before delays; default 20 × maxFailures (100). */
  peerMaxFailures?: number;
  /** Attempts per username across peers before delays (distributed guessing); default 20 × maxFailures (100). */
  usernameMaxFailures?: number;
  /** First delay once a budget is used up, ms; doubles per further attempt. Default 1000. */
  baseDelayMs?: number;
  /** Longest delay of a (username, peer), (client id, peer) or peer entry, ms; default 15 minutes. */
  maxDelayMs?: number;
  /**
   * Longest delay of the per-username budget, ms; default 30 s. Short on purpose: it slows guessing
   * spread over many peers to one attempt per window without ever locking the user out for long.
   */
  usernameMaxDelayMs?: number;
  /** Clock, ms; default `Date.now`. */
  now?: () => number;
}

/** A budget entry in `AUTHMESH_THROTTLE`: attempts in the window, and until when the next one waits (ms). */
interface Entry {
  n: number;
  until: number;
}

/** One budget: its KV key, how many attempts it allows before delays, and its longest delay. */
interface Budget {
  key: string;
  limit: number;
  maxDelayMs: number;
}

/** A reserved attempt on one budget, with what the reservation changed (for its release). */
interface Held {
  budget: Budget;
  /** The `until` the reservation set, so a release only lifts a delay it caused itself. */
  until: number;
}

/** The outcome of `reserve`: go ahead (then report the outcome), or wait `retryAfterMs`. */
export type Reservation = { ok: true; held: readonly Held[] } | { ok: false; retryAfterMs: number };

/** Compare-and-set attempts per budget before an attempt is shed as throttled (a burst on one key). */
const MAX_CAS_ATTEMPTS = 25;

const isEntry = (v: unknown): v is Entry =>
  typeof v === 'object' &&
  v !== null &&
  Number.isInteger((v as Entry).n) &&
  (v as Entry).n >= 0 &&
  Number.isFinite((v as Entry).until);

/**
 * Failed-login throttling as budgets shared by every auth replica, in the JetStream KV bucket
 * `AUTHMESH_THROTTLE` (entries expire by the bucket's max age, so a spraying attack cannot grow it
 * without bound). An attempt is RESERVED with compare-and-set before the credential is checked: of N
 * concurrent guesses at most the budget are ever evaluated, the rest are refused without hashing.
 * A failure keeps its reservation; a success gives it back.
 *
 * Budgets of a password attempt, reserved in this order: (username, peer) with `maxFailures` then a
 * delay doubling up to 15 minutes; the peer across usernames, likewise with a higher budget; the
 * username across peers with a much higher budget and short delays (never a long lock, so guessing
 * from many peers slows down while the user can still log in). A lock on (username, attacker's peer)
 * never touches the same username from another peer. `client_credentials` uses (client id, peer).
 *
 * Entries are sealed like every other record (./stores/record-mac.ts): a lock a NATS writer forged is
 * refused (reported), read as an empty budget and replaced by the next reservation. The MAC cannot stop
 * such a writer from resetting a budget (deleting an entry is always possible, and reads as no failures);
 * it stops a forged lock-out, and makes the tampering visible.
 */
export class LoginThrottle {
  private readonly maxFailures: number;
  private readonly peerMaxFailures: number;
  private readonly usernameMaxFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly usernameMaxDelayMs: number;
  private readonly now: () => number;

  private constructor(
    private readonly kv: RecordBucket,
    options: LoginThrottleOptions,
  ) {
    const positiveInt = (name: keyof LoginThrottleOptions, value: number): number => {
      if (!Number.isInteger(value) || value < 1)
        throw new TypeError(`LoginThrottle: options.${name} must be a positive integer`);
      return value;
    };
    this.maxFailures = positiveInt('maxFailures', options.maxFailures ?? 5);
    this.peerMaxFailures = positiveInt('peerMaxFailures', options.peerMaxFailures ?? 20 * this.maxFailures);
    this.usernameMaxFailures = positiveInt(
      'usernameMaxFailures',
      options.usernameMaxFailures ?? 20 * this.maxFailures,
    );
    this.baseDelayMs = positiveInt('baseDelayMs', options.baseDelayMs ?? 1000);
    this.maxDelayMs = positiveInt('maxDelayMs', options.maxDelayMs ?? THROTTLE_MAX_AGE_SEC * 1000);
    if (this.maxDelayMs > THROTTLE_MAX_AGE_SEC * 1000)
      throw new TypeError(`LoginThrottle: options.maxDelayMs must not exceed the bucket's max age`);
    this.usernameMaxDelayMs = positiveInt('usernameMaxDelayMs', options.usernameMaxDelayMs ?? 30_000);
    if (options.now !== undefined && typeof options.now !== 'function')
      throw new TypeError('LoginThrottle: options.now must be a function');
    this.now = options.now ?? Date.now;
  }

  /**
   * Binds `AUTHMESH_THROTTLE` (created by ./nats.ts `openBuckets`); entries sealed and checked with
   * `integrity`, read and written through `pipeline` when given.
   */
  static async open(
    js: JetStreamClient,
    integrity: RecordIntegrity,
    options: LoginThrottleOptions = {},
    pipeline?: KvPipeline,
  ): Promise<LoginThrottle> {
    if (typeof integrity?.wrap !== 'function')
      throw new TypeError('LoginThrottle: integrity must be a RecordIntegrity (./stores/record-mac.ts)');
    return new LoginThrottle(
      integrity.wrap(await bindHotBucket(js, BUCKETS.throttle, pipeline), BUCKETS.throttle),
      options,
    );
  }

  /** Reserves a password attempt of `username` from `peer` (a normalized address, ./peer.ts). */
  reservePassword(username: string, peer: string): Promise<Reservation> {
    const user = nameKey(username);
    const from = nameKey(peer);
    return this.reserve([
      { key: `up.${user}.${from}`, limit: this.maxFailures, maxDelayMs: this.maxDelayMs },
      { key: `p.${from}`, limit: this.peerMaxFailures, maxDelayMs: this.maxDelayMs },
      { key: `u.${user}`, limit: this.usernameMaxFailures, maxDelayMs: this.usernameMaxDelayMs },
    ]);
  }

  /**
   * Reserves a client_credentials attempt of `clientId` from `peer`. While the (client id, peer) entry
   * does not exist (no recent failure: the hot path) this is one read and reserves nothing: a client
   * secret is 256 random bits and checked with one SHA-256, so there is no hash to protect and nothing
   * to guess. From the first recorded failure on, attempts are reserved like passwords.
   */
  async reserveClient(clientId: string, peer: string): Promise<Reservation> {
    const budget = this.clientBudget(clientId, peer);
    if ((await this.kv.get(budget.key)) === null) return { ok: true, held: [] };
    return this.reserve([budget]);
  }

  /** Records a failed client_credentials attempt that `reserveClient` did not reserve (the hot path). */
  async clientFailed(clientId: string, peer: string, reservation: Reservation): Promise<void> {
    if (reservation.ok && reservation.held.length === 0)
      await this.reserve([this.clientBudget(clientId, peer)]);
  }

  /**
   * The attempt succeeded: its reservations are given back (the (name, peer) entry starts over, the
   * peer and username budgets drop by one). A failed attempt is simply not reported: it stays counted,
   * and so does an attempt shed because the hasher was busy.
   */
  async succeeded(reservation: Reservation): Promise<void> {
    if (reservation.ok) await this.release(reservation.held, true);
  }

  /**
   * Gives reservations back: each count drops by one (the first budget starts over when `resetFirst`),
   * and a delay is lifted only if it is the one this reservation started.
   */
  private async release(held: readonly Held[], resetFirst: boolean): Promise<void> {
    await Promise.all(
      held.map((h, i) =>
        this.mutate(h.budget.key, (e) =>
          resetFirst && i === 0
            ? { n: 0, until: 0 }
            : { n: Math.max(0, e.n - 1), until: e.until === h.until ? 0 : e.until },
        ),
      ),
    );
  }

  private clientBudget(clientId: string, peer: string): Budget {
    return {
      key: `cp.${nameKey(clientId)}.${nameKey(peer)}`,
      limit: this.maxFailures,
      maxDelayMs: this.maxDelayMs,
    };
  }

  /** Reserves each budget in order; when one refuses, the ones already reserved are given back. */
  private async reserve(budgets: Budget[]): Promise<Reservation> {
    const held: Held[] = [];
    for (const budget of budgets) {
      const r = await this.take(budget);
      if (typeof r === 'number') {
        // Not evaluated: the budgets already taken are given back (not reset).
        await this.release(held, false).catch(() => undefined);
        return { ok: false, retryAfterMs: r };
      }
      held.push(r);
    }
    return { ok: true, held };
  }

  /** One reservation on one budget: a `Held`, or the ms to wait. */
  private async take(budget: Budget): Promise<Held | number> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.getReplaceable(budget.key);
      const current = this.read(entry);
      const now = this.now();
      if (current.until > now) return current.until - now;
      const n = current.n + 1;
      // The attempt that uses up the budget starts the delay at once (reserved, not yet known to fail),
      // so no concurrent attempt gets past it; a success lifts it again.
      const until = n >= budget.limit ? now + this.delayMs(n - budget.limit, budget.maxDelayMs) : 0;
      try {
        await this.write(budget.key, { n, until }, entry);
        return { budget, until };
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
    // Many attempts on one key at the same instant: shed this one rather than evaluate it unreserved.
    return this.baseDelayMs;
  }

  /** Read-modify-write with compare-and-set, for releases (bounded; a lost release only errs on the safe side). */
  private async mutate(key: string, change: (e: Entry) => Entry): Promise<void> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const entry = await this.kv.get(key);
      if (entry === null || entry.operation !== 'PUT') return;
      try {
        await this.write(key, change(this.read(entry)), entry);
        return;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
  }

  /** A forged entry reads as a delete with its revision: an empty budget, replaced by compare-and-set. */
  private getReplaceable(key: string): Promise<KvEntry | null> {
    return this.kv.getReplaceable ? this.kv.getReplaceable(key) : this.kv.get(key);
  }

  private read(entry: KvEntry | null): Entry {
    const value = entryJson<unknown>(entry);
    return isEntry(value) ? value : { n: 0, until: 0 };
  }

  private write(key: string, value: Entry, previous: KvEntry | null): Promise<number> {
    return previous === null
      ? this.kv.create(key, jsonValue(value))
      : this.kv.update(key, jsonValue(value), previous.revision);
  }

  private delayMs(over: number, maxDelayMs: number): number {
    return Math.min(this.baseDelayMs * 2 ** Math.min(over, 30), maxDelayMs);
  }
}
