import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KV, KvEntry, KvWatchOptions } from 'nats';
import { Kek } from '../keys/kek.js';

/**
 * The part of nats.js's `KV` the stores use: a bound `KV`, or one whose single-key operations are
 * pipelined (./pipelined-kv.ts).
 */
export type KvBucket = Pick<KV, 'get' | 'put' | 'create' | 'update' | 'delete' | 'watch'>;

/**
 * What the auth service needs of a KV bucket. A raw `KV` has it (unit tests of one store), and so has
 * the `AuthenticatedBucket` below, which every record that grants authority goes through.
 */
export interface RecordBucket {
  get(key: string, opts?: { revision: number }): Promise<KvEntry | null>;
  put(key: string, value: Uint8Array): Promise<number>;
  create(key: string, value: Uint8Array): Promise<number>;
  update(key: string, value: Uint8Array, version: number): Promise<number>;
  delete(key: string): Promise<void>;
  watch(opts?: KvWatchOptions): Promise<AsyncIterable<KvEntry> & { stop(): void }>;
  /**
   * Like `get`, but a record that fails its check comes back as a delete that keeps its revision, so a
   * compare-and-set can replace it instead of being wedged behind it (the login throttle's counters).
   * Absent on a raw `KV`, whose records are never refused.
   */
  getReplaceable?(key: string): Promise<KvEntry | null>;
}

/** A record that failed its integrity check: where it is (never its content). */
export interface RefusedRecord {
  readonly bucket: string;
  readonly key: string;
}

/**
 * The MAC of records the auth service reads back from NATS (key ring, users, clients, sessions, refresh
 * tokens, login throttle counters, the recorded issuer and lifetimes): NATS is transport and storage,
 * not the root of trust (DESIGN.md, "The auth service's own trust boundary"). A writer to NATS without the KEK cannot add or
 * change a record, nor move one to another name: the MAC key is derived per bucket with HKDF
 * (RFC 5869) from the KEK, with the bucket as `info`, and the record's key is MACed with its body.
 * One derivation per bucket (cached) rather than per record: HKDF cost ~3x the HMAC on every read
 * and write of the refresh path, for no added separation (the key is bound either way).
 *
 * Stored form, still JSON for `nats kv get`: `{"v":1,"mac":"<43 base64url chars>","record":<JSON>}`,
 * where the MAC is HMAC-SHA256 over `<key> NUL <exact bytes of JSON>` (KV keys never hold NUL, so the
 * split is unambiguous), so nothing is re-serialized to check it.
 */
export class RecordMac {
  readonly #kek: Kek;
  /** Per-bucket MAC keys; the auth service has a handful of buckets, so this stays tiny. */
  readonly #bucketKeys = new Map<string, Buffer>();

  /** `kek`: the 32-byte KEK (`AUTHMESH_KEK`, or the stored development KEK). */
  constructor(kek: Uint8Array) {
    if (!(kek instanceof Uint8Array) || kek.length !== 32)
      throw new TypeError('recordMac: kek must be 32 bytes');
    this.#kek = new Kek(kek);
  }

  /** `body` (a JSON document) wrapped with its MAC for `bucket`/`key`. */
  seal(bucket: string, key: string, body: Uint8Array): Uint8Array {
    return Buffer.concat([PREFIX, Buffer.from(this.#mac(bucket, key, body), 'ascii'), MIDDLE, body, SUFFIX]);
  }

  /** The body of a sealed record when its MAC verifies for `bucket`/`key`; undefined otherwise. */
  open(bucket: string, key: string, stored: Uint8Array): Uint8Array | undefined {
    const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
    const bodyStart = PREFIX.length + MAC_CHARS + MIDDLE.length;
    if (
      bytes.length <= bodyStart + SUFFIX.length ||
      !bytes.subarray(0, PREFIX.length).equals(PREFIX) ||
      !bytes.subarray(PREFIX.length + MAC_CHARS, bodyStart).equals(MIDDLE) ||
      bytes[bytes.length - 1] !== SUFFIX[0]
    ) {
      return undefined;
    }
    const body = bytes.subarray(bodyStart, bytes.length - SUFFIX.length);
    const given = bytes.subarray(PREFIX.length, PREFIX.length + MAC_CHARS);
    const expected = Buffer.from(this.#mac(bucket, key, body), 'ascii');
    return timingSafeEqual(given, expected) ? body : undefined;
  }

  #mac(bucket: string, key: string, body: Uint8Array): string {
    return createHmac('sha256', this.#bucketKey(bucket))
      .update(key)
      .update(NUL)
      .update(body)
      .digest('base64url');
  }

  #bucketKey(bucket: string): Buffer {
    let derived = this.#bucketKeys.get(bucket);
    if (derived === undefined) {
      // HKDF info `authmesh/record-mac/v2 NUL <bucket>` (Kek.deriveKey); bucket names are short constants.
      derived = this.#kek.deriveKey(`${MAC_PURPOSE}\0${bucket}`);
      this.#bucketKeys.set(bucket, derived);
    }
    return derived;
  }
}

/** Reads a sealed record's body WITHOUT checking it: only for public data shown to an operator without a KEK. */
export function unverifiedBody(stored: Uint8Array): Uint8Array {
  const bytes = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  const bodyStart = PREFIX.length + MAC_CHARS + MIDDLE.length;
  return bytes.subarray(0, PREFIX.length).equals(PREFIX)
    ? bytes.subarray(bodyStart, bytes.length - SUFFIX.length)
    : bytes;
}

/**
 * A bucket whose values are sealed on write and checked on read. A record that fails is refused: `get`
 * answers as if it were missing, a watch delivers it as a delete, and `onRefused` reports it (log +
 * metric in the service, stderr in the CLI). Deletes and compare-and-set revisions pass through.
 */
export class AuthenticatedBucket implements RecordBucket {
  constructor(
    private readonly kv: KvBucket,
    private readonly bucket: string,
    private readonly mac: RecordMac,
    private readonly onRefused: (record: RefusedRecord) => void,
  ) {}

  async get(key: string, opts?: { revision: number }): Promise<KvEntry | null> {
    const entry = await this.kv.get(key, opts);
    return entry === null ? null : this.#checked(entry);
  }

  async getReplaceable(key: string): Promise<KvEntry | null> {
    const entry = await this.kv.get(key);
    return entry === null ? null : (this.#checked(entry) ?? refusedAsDelete(entry));
  }

  put(key: string, value: Uint8Array): Promise<number> {
    return this.kv.put(key, this.mac.seal(this.bucket, key, value));
  }

  create(key: string, value: Uint8Array): Promise<number> {
    return this.kv.create(key, this.mac.seal(this.bucket, key, value));
  }

  update(key: string, value: Uint8Array, version: number): Promise<number> {
    return this.kv.update(key, this.mac.seal(this.bucket, key, value), version);
  }

  delete(key: string): Promise<void> {
    return this.kv.delete(key);
  }

  async watch(opts?: KvWatchOptions): Promise<AsyncIterable<KvEntry> & { stop(): void }> {
    const inner = await this.kv.watch(opts);
    const checked = (entry: KvEntry): KvEntry => this.#checked(entry) ?? refusedAsDelete(entry);
    return {
      stop: () => inner.stop(),
      async *[Symbol.asyncIterator]() {
        for await (const entry of inner) yield checked(entry);
      },
    };
  }

  /** The entry with its verified body as value; null (and reported) when it does not verify. */
  #checked(entry: KvEntry): KvEntry | null {
    if (entry.operation !== 'PUT') return entry;
    const body = this.mac.open(this.bucket, entry.key, entry.value);
    if (body === undefined) {
      this.onRefused({ bucket: this.bucket, key: entry.key });
      return null;
    }
    return withValue(entry, body);
  }
}

/** Makes authenticated buckets that share one MAC (one KEK) and one report of refused records. */
export interface RecordIntegrity {
  /** `kv` bound to the bucket named `bucket` (the name is part of every record's MAC context). */
  wrap(kv: KvBucket, bucket: string): RecordBucket;
}

/** A `RecordIntegrity` over the KEK; `onRefused` reports each record that fails (never its content). */
export function recordIntegrity(
  kek: Uint8Array,
  onRefused: (record: RefusedRecord) => void,
): RecordIntegrity {
  const mac = new RecordMac(kek);
  return { wrap: (kv, bucket) => new AuthenticatedBucket(kv, bucket, mac, onRefused) };
}

const MAC_PURPOSE = 'record-mac/v2';
const NUL = Buffer.from([0]);
const MAC_CHARS = 43;
const PREFIX = Buffer.from('{"v":1,"mac":"', 'ascii');
const MIDDLE = Buffer.from('","record":', 'ascii');
const SUFFIX = Buffer.from('}', 'ascii');

function withValue(entry: KvEntry, value: Uint8Array): KvEntry {
  return {
    bucket: entry.bucket,
    key: entry.key,
    created: entry.created,
    revision: entry.revision,
    delta: entry.delta,
    operation: entry.operation,
    value,
    length: value.length,
    string: () => Buffer.from(value).toString('utf8'),
    json: <T>() => JSON.parse(Buffer.from(value).toString('utf8')) as T,
  };
}

function refusedAsDelete(entry: KvEntry): KvEntry {
  return { ...withValue(entry, new Uint8Array(0)), operation: 'DEL' };
}
