import type { StreamInfo } from 'nats';

/**
 * Which stream the feed follows. A stream deleted and recreated (lost store, operator mistake) has a
 * new `created` time and starts its sequences again, so the feed must start over on it; its
 * `max_age` bounds how long an event stored there could have mattered.
 */
export class StreamIdentity {
  private created: string | undefined;
  /** The stream's max age, seconds (from its config; 0 when it has none). */
  maxAgeSec = 0;

  /** Adopts the stream described by `info`. */
  adopt(info: StreamInfo): void {
    this.created = info.created;
    this.maxAgeSec = Math.ceil(Number(info.config.max_age ?? 0) / 1e9);
  }

  /** True when `info` describes another stream than the one adopted (or its sequences went back). */
  isNew(info: StreamInfo, consumed: number): boolean {
    return info.created !== this.created || info.state.last_seq < consumed;
  }

  /**
   * Until when (unix s) an entry replayed from this stream can matter once its message is gone: it was
   * stored at most `max_age` ago (a stream without max age: one day, failing closed).
   */
  holdUntil(nowSec: number): number {
    return nowSec + (this.maxAgeSec > 0 ? this.maxAgeSec : 86_400);
  }
}
