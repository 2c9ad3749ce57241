import type { KvEntry } from 'nats';
import { entryJson } from './kv.js';
import type { RecordBucket } from './record-mac.js';

type Watcher = Awaited<ReturnType<RecordBucket['watch']>>;

/** Delay before a watch that ended on its own is started again, ms. */
const REWATCH_DELAY_MS = 1000;
/** Longest wait for a watch's initial values; reads go to KV until they are in, ms. */
const INITIAL_LOAD_TIMEOUT_MS = 10_000;

/**
 * An in-memory copy of a KV bucket kept fresh by a watch, so hot paths (IssueToken) read records
 * without a NATS round trip. A key missing from the copy is read from KV (a record written a moment
 * ago may not have arrived through the watch yet). If the watch ends unexpectedly the copy is
 * dropped, every read goes to KV, and the watch is started again: never serve a copy nobody updates
 * (a deleted user must not keep logging in).
 */
export class WatchedBucket<T> {
  private readonly records = new Map<string, T>();
  private watcher: Watcher | undefined;
  private loop: Promise<void> | undefined;
  private current = false;
  private closed = false;
  private rewatch: NodeJS.Timeout | undefined;
  private changes = 0;

  private constructor(
    readonly kv: RecordBucket,
    private readonly validate: (value: unknown) => value is T,
  ) {}

  /** Starts the watch and resolves once the bucket's current values are loaded. */
  static async open<T>(
    kv: RecordBucket,
    validate: (value: unknown) => value is T,
  ): Promise<WatchedBucket<T>> {
    const bucket = new WatchedBucket<T>(kv, validate);
    await bucket.start();
    return bucket;
  }

  private async start(): Promise<void> {
    let initialized!: () => void;
    const loaded = new Promise<void>((resolve) => (initialized = resolve));
    const watcher = await this.kv.watch({ initializedFn: () => initialized() });
    this.watcher = watcher;
    this.loop = (async () => {
      for await (const entry of watcher) this.apply(entry);
    })()
      .catch(() => undefined)
      .finally(() => this.ended(watcher));
    // Serve from memory only once the initial values are in; until then (or if nats.js never
    // reports them) every read goes to KV, which is slower but never wrong.
    void loaded.then(() => {
      if (this.watcher === watcher) this.current = true;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      loaded,
      new Promise((resolve) => (timer = setTimeout(resolve, INITIAL_LOAD_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
  }

  private ended(watcher: Watcher): void {
    if (this.watcher !== watcher) return;
    this.current = false;
    this.records.clear();
    this.changes++;
    this.watcher = undefined;
    this.scheduleRewatch();
  }

  private scheduleRewatch(): void {
    if (this.closed) return;
    this.rewatch = setTimeout(() => {
      this.start().catch(() => this.scheduleRewatch());
    }, REWATCH_DELAY_MS);
    this.rewatch.unref();
  }

  private apply(entry: KvEntry): void {
    const value = entryJson<unknown>(entry);
    if (value !== undefined && this.validate(value)) this.records.set(entry.key, value);
    else this.records.delete(entry.key);
    this.changes++;
  }

  /** Changes the copy has seen: a cheap way for a caller to know that something it derived is stale. */
  get version(): number {
    return this.changes;
  }

  /** The records in memory (empty while the watch is not current). */
  values(): IterableIterator<T> {
    return this.current ? this.records.values() : new Map<string, T>().values();
  }

  /**
   * The record under `key`: from memory while the watch is current, else read from KV. A value read
   * that way is not stored: only the watch writes the copy, so a delete that overtakes the read
   * cannot be undone by it.
   */
  async get(key: string): Promise<T | undefined> {
    const cached = this.current ? this.records.get(key) : undefined;
    if (cached !== undefined) return cached;
    const value = entryJson<unknown>(await this.kv.get(key));
    return value !== undefined && this.validate(value) ? value : undefined;
  }

  /** Number of records in memory. */
  get size(): number {
    return this.records.size;
  }

  /** Stops the watch. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.rewatch);
    const watcher = this.watcher;
    this.watcher = undefined;
    this.current = false;
    watcher?.stop();
    await this.loop;
  }
}
