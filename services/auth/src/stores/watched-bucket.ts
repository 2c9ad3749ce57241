import type { KV, QueuedIterator, KvEntry } from 'nats';
import { entryJson } from './kv.js';

/**
 * An in-memory copy of a KV bucket kept fresh by a watch, so hot paths (IssueToken) read records
 * without a NATS round trip. A key missing from the copy is read from KV once (a record written a
 * moment ago may not have arrived through the watch yet).
 */
export class WatchedBucket<T> {
  private readonly records = new Map<string, T>();
  private watcher: QueuedIterator<KvEntry> | undefined;
  private loop: Promise<void> | undefined;

  private constructor(
    readonly kv: KV,
    private readonly validate: (value: unknown) => value is T,
  ) {}

  /** Starts the watch and resolves once the bucket's current values are loaded. */
  static async open<T>(kv: KV, validate: (value: unknown) => value is T): Promise<WatchedBucket<T>> {
    const bucket = new WatchedBucket<T>(kv, validate);
    await bucket.start();
    return bucket;
  }

  private async start(): Promise<void> {
    let initialized!: () => void;
    const loaded = new Promise<void>((resolve) => (initialized = resolve));
    this.watcher = await this.kv.watch({ initializedFn: () => initialized() });
    const watcher = this.watcher;
    this.loop = (async () => {
      for await (const entry of watcher) this.apply(entry);
    })().catch(() => {
      // The watch ends with the connection; reads then fall back to KV gets (see get()).
      this.watcher = undefined;
    });
    await loaded;
  }

  private apply(entry: KvEntry): void {
    const value = entryJson<unknown>(entry);
    if (value !== undefined && this.validate(value)) this.records.set(entry.key, value);
    else this.records.delete(entry.key);
  }

  /**
   * The record under `key`: from memory, else read from KV. A value read that way is not stored:
   * only the watch writes the copy, so a delete that overtakes the read cannot be undone by it.
   */
  async get(key: string): Promise<T | undefined> {
    const cached = this.records.get(key);
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
    this.watcher?.stop();
    this.watcher = undefined;
    await this.loop;
  }
}
