/**
 * When the feed was last known current, on the monotonic clock (`performance.now()`): a wall-clock
 * step (NTP, an operator's `date`) can neither stretch nor cut "current".
 *
 * A mark says "a stream-info request sent at time t saw the stream end at sequence `end`". Once the
 * feed has applied everything up to `end` (see `ReplayProgress.caughtUp`), it was current at t.
 */
export class StalenessClock {
  private lastCurrent = -Infinity;
  private mark: { t: number; end: number } | undefined;

  constructor(private readonly maxStalenessMs: number) {}

  /** Records the stream's end as seen by a request sent at monotonic time `t`. */
  setMark(t: number, end: number): void {
    this.mark = { t, end };
  }

  /** The stream end of the latest mark (what "caught up" is measured against), or undefined before one. */
  get end(): number | undefined {
    return this.mark?.end;
  }

  /** The feed now holds everything up to the mark's end: it was current when the mark was taken. */
  caughtUp(): void {
    if (this.mark) this.lastCurrent = Math.max(this.lastCurrent, this.mark.t);
  }

  /** ms since the feed was last known current; Infinity if never. */
  get stalenessMs(): number {
    return performance.now() - this.lastCurrent;
  }

  isStale(): boolean {
    return this.stalenessMs > this.maxStalenessMs;
  }
}
