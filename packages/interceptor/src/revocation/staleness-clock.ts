/** Marks kept while the feed works towards them (one per check, so about this many seconds of lag). */
const MAX_MARKS = 64;

/**
 * When the feed was last known current, on the monotonic clock (`performance.now()`): a wall-clock
 * step (NTP, an operator's `date`) can neither stretch nor cut "current".
 *
 * A mark says "a stream-info request sent at time t saw the stream end at sequence `end`". Once the
 * feed has applied everything up to `end` (see `ReplayProgress.caughtUp`), it was current at t: every
 * event published before t is applied now. Several marks are kept, not only the latest: a feed working
 * through a steady backlog, always a little behind the newest mark, is credited with the older marks
 * it reaches, so its staleness is its true lag. A feed far behind the stream's end reaches only old
 * marks (or none) and turns stale all the same.
 */
export class StalenessClock {
  private lastCurrent = -Infinity;
  /** Ascending in t and in end (ends never fall within one stream: see `restart`). */
  private marks: Array<{ t: number; end: number }> = [];

  constructor(private readonly maxStalenessMs: number) {}

  /** Records the stream's end as seen by a request sent at monotonic time `t`. */
  setMark(t: number, end: number): void {
    const last = this.marks[this.marks.length - 1];
    // An end lower than before is another stream's sequence: older marks no longer measure anything.
    if (last !== undefined && end < last.end) this.marks = [];
    this.marks.push({ t, end });
    if (this.marks.length > MAX_MARKS) this.marks.shift();
  }

  /** The stream was recreated: marks of the old stream are dropped, this one starts the new. */
  restart(t: number, end: number): void {
    this.marks = [];
    this.setMark(t, end);
  }

  /** The stream end of the latest mark (what "caught up" is measured against), or undefined before one. */
  get end(): number | undefined {
    return this.marks[this.marks.length - 1]?.end;
  }

  /**
   * Credits the latest mark whose end the feed has reached (`reached(end)`: everything up to `end` is
   * applied), and drops the marks up to it. With no argument: the latest mark is reached.
   */
  caughtUp(reached: (end: number) => boolean = () => true): void {
    let i = -1;
    while (i + 1 < this.marks.length && reached(this.marks[i + 1]!.end)) i++;
    if (i < 0) return;
    this.lastCurrent = Math.max(this.lastCurrent, this.marks[i]!.t);
    // The latest mark is kept: `end` and readiness are measured against it.
    if (i > 0) this.marks = this.marks.slice(i);
  }

  /** ms since the feed was last known current; Infinity if never. */
  get stalenessMs(): number {
    return performance.now() - this.lastCurrent;
  }

  isStale(): boolean {
    return this.stalenessMs > this.maxStalenessMs;
  }
}
