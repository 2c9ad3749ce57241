import type { PendingEntry, RevocationSet } from './revocation-set.js';

const TICK_MS = 100;
const CONCURRENCY = 16;
const BACKOFF_MS = 1000;

/**
 * Verifies the replayed, not yet verified entries in the background once the feed is ready, at most
 * `perSecond` of them, so the window in which a forged replayed entry fails closed (or a genuine one
 * could lose its message unverified) is seconds, not the stream's max age — while ready stays fast
 * (the replay itself verifies nothing). Entries still pending after a pass (NATS unreachable, key
 * unknown) are tried again on the next pass.
 */
export class PendingVerifier {
  private timer: NodeJS.Timeout | undefined;
  private cursor: Iterator<PendingEntry> | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly set: RevocationSet,
    private readonly verify: (entry: PendingEntry) => Promise<void>,
    private readonly perSecond: number,
    /** False while entries should wait (budget spent, not connected). */
    private readonly mayRun: () => boolean,
  ) {}

  start(): void {
    if (this.perSecond <= 0 || this.timer !== undefined || this.stopped) return;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    if (this.set.pending === 0 || !this.mayRun()) {
      this.cursor = undefined;
      this.schedule(BACKOFF_MS);
      return;
    }
    this.running = true;
    const t0 = performance.now();
    try {
      const batch: PendingEntry[] = [];
      const want = Math.max(1, Math.round((this.perSecond * TICK_MS) / 1000));
      // One entry per event: a batch event's values share its sequence, and its one check settles them
      // all, so the allowance counts signature checks, not values (a 1M-entry replay is ~2,500 events).
      const seqs = new Set<number>();
      this.cursor ??= this.set.pendingEntries();
      while (batch.length < want) {
        const r = this.cursor.next();
        if (r.done) {
          this.cursor = undefined;
          break;
        }
        if (seqs.has(r.value.seq)) continue;
        seqs.add(r.value.seq);
        batch.push(r.value);
      }
      for (let i = 0; i < batch.length; i += CONCURRENCY)
        await Promise.all(batch.slice(i, i + CONCURRENCY).map((e) => this.verify(e).catch(() => undefined)));
    } finally {
      this.running = false;
      // A full pass done: pause before the next one (what is left is waiting for NATS or a key).
      this.schedule(this.cursor === undefined ? BACKOFF_MS : Math.max(0, TICK_MS - (performance.now() - t0)));
    }
  }
}
