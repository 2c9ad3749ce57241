import {
  ErrorCode,
  headers as natsHeaders,
  type JetStreamManager,
  type KV,
  type KvEntry,
  type Msg,
} from 'nats';
import { pubAckSequence } from '../acked-publisher.js';
import { failure, type RequestPipeline } from '../request-pipeline.js';
import type { KvBucket } from './record-mac.js';

/** nats.js's default JetStream request timeout, ms. */
const TIMEOUT_MS = 5000;

/**
 * A KV bucket whose reads and writes of single keys go through a {@link RequestPipeline}: the refresh and
 * session records a Refresh reads and compare-and-sets, the login throttle's counters. Same wire protocol
 * as nats.js's KV (direct get of the last message on the key's subject; a publish with
 * `Nats-Expected-Last-Subject-Sequence` for compare-and-set), same answers (null for a missing key, a
 * delete as operation DEL/PURGE, a conflict that `isCasConflict` recognizes); watches, reads of an older
 * revision and deletes go to nats.js's KV.
 */
export class PipelinedKv implements KvBucket {
  private readonly subjectPrefix: string;
  private readonly directPrefix: string;

  private constructor(
    private readonly kv: KV,
    private readonly bucket: string,
    private readonly pipeline: RequestPipeline,
  ) {
    this.subjectPrefix = `$KV.${bucket}.`;
    this.directPrefix = `$JS.API.DIRECT.GET.KV_${bucket}.$KV.${bucket}.`;
  }

  /**
   * `kv` (bound to `bucket`) with its single-key operations on `pipeline`; `kv` itself when the bucket's
   * stream does not allow direct gets (a bucket made by a NATS server older than 2.9), whose reads need
   * the stream leader's JSON API.
   */
  static async wrap(
    kv: KV,
    bucket: string,
    jsm: JetStreamManager,
    pipeline: RequestPipeline,
  ): Promise<KvBucket> {
    const info = await jsm.streams.info(`KV_${bucket}`);
    return info.config.allow_direct === true ? new PipelinedKv(kv, bucket, pipeline) : kv;
  }

  async get(key: string, opts?: { revision: number }): Promise<KvEntry | null> {
    if (opts !== undefined && opts.revision > 0) return this.kv.get(key, opts);
    // Reads of one key in one turn (every Refresh reads the `all` marker) share one request.
    const msg = await this.pipeline.request(this.directPrefix + key, EMPTY, {
      timeoutMs: TIMEOUT_MS,
      shareable: true,
    });
    const status = msg.headers?.code ?? 0;
    if (status === 404) return null;
    if (status !== 0) {
      const code = status === 503 ? ErrorCode.NoResponders : String(status);
      throw failure(code, `KV get from ${this.bucket} failed: ${msg.headers?.description || status}`);
    }
    const h = msg.headers!;
    const subject = h.get('Nats-Subject');
    // Direct get answers with the stream's last message on the subject: it must be this key's.
    if (subject !== this.subjectPrefix + key) return null;
    return entry(
      this.bucket,
      key,
      msg,
      Number(h.get('Nats-Sequence')),
      h.get('Nats-Time-Stamp'),
      h.get('KV-Operation'),
    );
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.pipeline.forgetUnsentRead(this.directPrefix + key);
    return pubAckSequence(
      await this.pipeline.request(this.subjectPrefix + key, value, { timeoutMs: TIMEOUT_MS }),
    );
  }

  /** Writes `value` only if `key` is still at `version` (compare-and-set). */
  async update(key: string, value: Uint8Array, version: number): Promise<number> {
    if (!(version > 0)) throw new Error('version must be greater than 0');
    return this.casPut(key, value, version);
  }

  /** Writes `value` only if `key` has no live value (missing, or deleted/purged), as nats.js's `create`. */
  async create(key: string, value: Uint8Array): Promise<number> {
    try {
      return await this.casPut(key, value, 0);
    } catch (err) {
      if ((err as { api_error?: { err_code?: number } }).api_error?.err_code !== 10071) throw err;
      const current = await this.get(key);
      if (current?.operation === 'DEL' || current?.operation === 'PURGE')
        return this.update(key, value, current.revision);
      throw err;
    }
  }

  delete(key: string): Promise<void> {
    return this.kv.delete(key);
  }

  watch(...args: Parameters<KV['watch']>): ReturnType<KV['watch']> {
    return this.kv.watch(...args);
  }

  private async casPut(key: string, value: Uint8Array, version: number): Promise<number> {
    this.pipeline.forgetUnsentRead(this.directPrefix + key);
    const headers = natsHeaders();
    headers.set('Nats-Expected-Last-Subject-Sequence', String(version));
    return pubAckSequence(
      await this.pipeline.request(this.subjectPrefix + key, value, { headers, timeoutMs: TIMEOUT_MS }),
    );
  }
}

const EMPTY = new Uint8Array(0);

function entry(
  bucket: string,
  key: string,
  msg: Msg,
  revision: number,
  timestamp: string,
  operation: string,
): KvEntry {
  const value = msg.data;
  return {
    bucket,
    key,
    value,
    revision,
    created: new Date(timestamp),
    delta: 0,
    operation: operation === 'DEL' || operation === 'PURGE' ? operation : 'PUT',
    length: value.length,
    string: () => Buffer.from(value).toString('utf8'),
    json: <T>() => JSON.parse(Buffer.from(value).toString('utf8')) as T,
  };
}
