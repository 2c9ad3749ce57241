import type { JSONWebKeySet, JWK } from 'jose';
import type { KvEntry } from 'nats';
import type { RecordBucket } from '../stores/record-mac.js';
import type { Kek } from './kek.js';
import type { KeyManager, SigningAlg, SigningKey } from './key-manager.types.js';
import {
  createRing,
  currentKey,
  encodeRing,
  eventOnlyKeys,
  openPrivateKey,
  parseRing,
  publicKeys,
  rotateRing,
  withdrawFromRing,
  type StoredRing,
} from './ring.js';

/** The KV key (in `AUTHMESH_KEYS`) holding the whole ring. */
export const RING_KEY = 'ring';

/** Options of `NatsKeyManager.open`. */
export interface KeyManagerOptions {
  /**
   * The `AUTHMESH_KEYS` bucket, authenticated (../stores/record-mac.ts) in the service and the CLI: a
   * ring a NATS writer made or changed reads as missing, so no key of theirs is ever published or used.
   */
  kv: RecordBucket;
  kek: Kek;
  /** Algorithm of keys generated from now on (existing keys keep theirs). */
  alg: SigningAlg;
  /** Access-token lifetime, seconds: a retired key verifies for this long plus `clockSkewSec`. */
  accessTtlSec: number;
  clockSkewSec: number;
  /** Seconds between scheduled rotations; 0 disables the schedule. */
  rotationIntervalSec: number;
  /** How often the schedule and retired-key expiry are checked, ms (default min(30 s, interval / 10)). */
  checkEveryMs?: number;
  /**
   * Create the ring when the bucket holds none (default true: the auth service). The CLI passes false:
   * only the service, with its own KEK, decides what the ring is created under.
   */
  create?: boolean;
  /** Watch the ring for changes by other replicas (default true; the CLI turns it off). */
  watch?: boolean;
  /** Called after this manager wrote a new current key or withdrew one (publish `authmesh.keys.rotated`). */
  announce?: (event: { current: string; withdrawn?: string }) => void;
  /** Reports a failure of background work (watch, schedule); default ignores it. */
  onError?: (err: unknown) => void;
  /** Clock, unix ms (tests). */
  now?: () => number;
}

const CAS_ATTEMPTS = 8;
/** A ring that exists but reads as missing: deleted meanwhile, or refused by its integrity check. */
const RING_UNREADABLE =
  'the key ring in AUTHMESH_KEYS is missing or fails its integrity check (written without this KEK: by other code or by someone with NATS access); see `authmesh doctor`';
const WRONG_LAST_SEQUENCE = 10071;

/**
 * The key ring in one KV entry, shared by all auth replicas. Every change is a compare-and-set on the
 * entry's revision: when replicas race (first start, rotation), exactly one write wins and the others
 * adopt its result instead of writing their own.
 */
export class NatsKeyManager implements KeyManager {
  #ring!: StoredRing;
  #revision = 0;
  #signing!: SigningKey;
  #visible = '';
  #jwks: JSONWebKeySet = { keys: [] };
  #json = '';
  #eventKeys: readonly JWK[] = [];
  #eventKeysJson = '{"keys":[]}';
  readonly #listeners = new Set<() => void>();
  readonly #retainMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #watch: { stop(): void } | undefined;
  #closed = false;

  private constructor(private readonly options: KeyManagerOptions) {
    this.#retainMs = (options.accessTtlSec + options.clockSkewSec) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Loads the ring, creating it on first start (CAS create: one replica wins, the rest adopt). */
  static async open(options: KeyManagerOptions): Promise<NatsKeyManager> {
    validate(options);
    const m = new NatsKeyManager(options);
    let entry = await options.kv.get(RING_KEY);
    if ((!entry || entry.operation !== 'PUT') && options.create === false) {
      throw new Error(
        'no key ring in AUTHMESH_KEYS yet: start the auth service once (it creates the ring; the CLI never does)',
      );
    }
    if (!entry || entry.operation !== 'PUT') {
      try {
        const revision = await options.kv.create(
          RING_KEY,
          encodeRing(createRing(options.alg, options.kek, m.#now())),
        );
        entry = await options.kv.get(RING_KEY, { revision });
      } catch (err) {
        if (!isCasConflict(err)) throw err;
        entry = await options.kv.get(RING_KEY);
      }
    }
    if (!entry || entry.operation !== 'PUT') throw new Error(RING_UNREADABLE);
    m.#apply(entry);
    if (options.watch !== false) await m.#startWatch();
    m.#schedule();
    return m;
  }

  current(): SigningKey {
    return this.#signing;
  }

  jwks(): JSONWebKeySet {
    return this.#jwks;
  }

  jwksJson(): string {
    return this.#json;
  }

  eventKeys(): readonly JWK[] {
    return this.#eventKeys;
  }

  eventKeysJson(): string {
    return this.#eventKeysJson;
  }

  /** KV revision of the ring this manager holds. */
  get revision(): number {
    return this.#revision;
  }

  /** The ring as stored (public data plus sealed private halves), for the CLI and tests. */
  get ring(): StoredRing {
    return this.#ring;
  }

  async rotate(): Promise<void> {
    let retiring: string | undefined;
    await this.#mutate((ring, now) => {
      const cur = currentKey(ring).kid;
      // A concurrent rotation already retired the key we meant to retire: adopt it, don't rotate twice.
      if (retiring !== undefined && retiring !== cur) return undefined;
      retiring = cur;
      return rotateRing(ring, this.options.alg, this.options.kek, now, this.#retainMs);
    });
  }

  /** Rotates when the interval has passed since the ring's last rotation (checked against KV, not local time). */
  async rotateIfDue(): Promise<boolean> {
    const interval = this.options.rotationIntervalSec * 1000;
    if (interval === 0) return false;
    return this.#mutate((ring, now) =>
      now < ring.rotatedAt + interval
        ? undefined
        : rotateRing(ring, this.options.alg, this.options.kek, now, this.#retainMs),
    );
  }

  async withdraw(kid: string): Promise<void> {
    await this.#mutate(
      (ring, now) => withdrawFromRing(ring, kid, this.options.alg, this.options.kek, now, this.#retainMs),
      kid,
    );
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The periodic check, callable directly: drops expired retired keys from the JWKS, rotates when due. */
  async check(): Promise<void> {
    this.#refreshView();
    await this.rotateIfDue();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#watch?.stop();
    this.#listeners.clear();
  }

  /**
   * Read the entry, compute the change, write it with the read revision as the expected one; on a
   * conflict, read again and recompute (the change function decides whether it still applies). True when
   * this call's write won.
   */
  async #mutate(
    change: (ring: StoredRing, now: number) => StoredRing | undefined,
    withdrawn?: string,
  ): Promise<boolean> {
    const { kv } = this.options;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await kv.get(RING_KEY);
      if (!entry || entry.operation !== 'PUT') throw new Error(RING_UNREADABLE);
      this.#apply(entry);
      const next = change(this.#ring, this.#now());
      if (!next) return false;
      try {
        const revision = await kv.update(RING_KEY, encodeRing(next), entry.revision);
        const before = this.#signing.kid;
        this.#applyRing(next, revision);
        if (before !== this.#signing.kid || withdrawn) {
          this.options.announce?.({ current: this.#signing.kid, ...(withdrawn ? { withdrawn } : {}) });
        }
        return true;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
    throw new Error(`key ring update lost ${CAS_ATTEMPTS} compare-and-set races in a row`);
  }

  #apply(entry: KvEntry): void {
    if (entry.operation !== 'PUT' || entry.revision <= this.#revision) return;
    this.#applyRing(parseRing(entry.value), entry.revision);
  }

  #applyRing(ring: StoredRing, revision: number): void {
    if (revision <= this.#revision) return;
    const cur = currentKey(ring);
    // Decrypt only when the signing key changed: a bad KEK fails here, loudly, before anything signs.
    if (this.#signing?.kid !== cur.kid) {
      this.#signing = Object.freeze({
        kid: cur.kid,
        alg: cur.alg,
        privateKey: openPrivateKey(cur, this.options.kek),
      });
    }
    this.#ring = ring;
    this.#revision = revision;
    this.#visible = '';
    this.#refreshView();
  }

  /** Recomputes the published JWKS (retired keys expire by time alone); notifies listeners when it changed. */
  #refreshView(): void {
    const keys = publicKeys(this.#ring, this.#now(), this.#retainMs);
    const eventOnly = eventOnlyKeys(this.#ring, this.#now(), this.#retainMs);
    const visible = `${this.#revision}:${keys.map((k) => k.kid).join(',')}|${eventOnly.map((k) => k.kid).join(',')}`;
    if (visible === this.#visible) return;
    const first = this.#visible === '' && this.#json === '';
    this.#visible = visible;
    this.#jwks = Object.freeze({ keys: keys.map((k) => Object.freeze({ ...k })) }) as JSONWebKeySet;
    this.#json = JSON.stringify(this.#jwks);
    this.#eventKeys = Object.freeze(eventOnly.map((k) => Object.freeze({ ...k })));
    this.#eventKeysJson = JSON.stringify({ keys: this.#eventKeys });
    if (first) return;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }

  async #startWatch(): Promise<void> {
    const iter = await this.options.kv.watch({ key: RING_KEY });
    this.#watch = iter;
    void (async () => {
      try {
        for await (const entry of iter) {
          if (this.#closed) break;
          try {
            this.#apply(entry);
          } catch (err) {
            this.options.onError?.(err);
          }
        }
      } catch (err) {
        if (!this.#closed) this.options.onError?.(err);
      }
    })();
  }

  #schedule(): void {
    const interval = this.options.rotationIntervalSec * 1000;
    const every =
      this.options.checkEveryMs ?? Math.max(1000, Math.min(30_000, interval > 0 ? interval / 10 : 30_000));
    const tick = (): void => {
      if (this.#closed) return;
      this.check()
        .catch((err: unknown) => this.options.onError?.(err))
        .finally(() => {
          if (this.#closed) return;
          // Jitter spreads replicas' checks so one usually rotates before the others look.
          this.#timer = setTimeout(tick, every + Math.floor(Math.random() * Math.min(1000, every / 10)));
          this.#timer.unref();
        });
    };
    this.#timer = setTimeout(tick, every);
    this.#timer.unref();
  }
}

function isCasConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(e?.message ?? '');
}

function validate(o: KeyManagerOptions): void {
  if (!o || typeof o.kv?.get !== 'function') throw new TypeError('keyManager: kv must be a KV bucket');
  if (o.alg !== 'EdDSA' && o.alg !== 'ES256') throw new TypeError('keyManager: alg must be EdDSA or ES256');
  for (const name of ['accessTtlSec', 'clockSkewSec', 'rotationIntervalSec'] as const) {
    if (!Number.isInteger(o[name]) || o[name] < 0)
      throw new TypeError(`keyManager: ${name} must be a whole number ≥ 0`);
  }
  if (o.checkEveryMs !== undefined && !(o.checkEveryMs > 0))
    throw new TypeError('keyManager: checkEveryMs must be > 0');
}
