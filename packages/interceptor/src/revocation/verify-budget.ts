/**
 * The CPU an interceptor spends on events that turn out not to verify (forged, corrupt): a token
 * bucket of milliseconds, refilled at `msPerSec`, at most `burstMs`. Genuine events are never
 * charged. When it is empty, the core fast path skips verification (the stream copy is checked
 * later, counted in `throttled`) and the stream path waits for the refill instead of spinning, so a
 * flood of forged events becomes counted drops and a slower (eventually stale) feed, not a busy loop.
 */
export class VerifyBudget {
  /** Verifications skipped or delayed because the budget was spent. */
  throttled = 0;
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly msPerSec = 100,
    private readonly burstMs = 250,
  ) {
    this.tokens = burstMs;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burstMs, this.tokens + ((now - this.last) * this.msPerSec) / 1000);
    this.last = now;
  }

  /** Whether an event may be verified now. */
  available(): boolean {
    this.refill();
    return this.tokens > 0;
  }

  /** Charges the time a failed verification took. */
  charge(ms: number): void {
    this.refill();
    this.tokens -= ms;
  }

  /** Resolves once the budget is positive again (a timer, never a spin). */
  async whenAvailable(): Promise<void> {
    if (this.available()) return;
    this.throttled++;
    while (!this.available()) {
      const waitMs = Math.ceil((-this.tokens * 1000) / this.msPerSec) + 1;
      await new Promise((r) => setTimeout(r, Math.min(waitMs, 1000)).unref());
    }
  }
}
