/**
 * How far the feed has got through the stream, and whether that is "caught up".
 *
 * `consumed` is the highest sequence the consumer delivered. An event still being verified, or parked
 * while it waits for its key (`floor`), holds the applied horizon below it: the feed never counts a
 * revocation it has not applied. Caught up means nothing lies between what was applied and the
 * stream's end: `max(applied, first_seq - 1) >= end`, so an empty or fully aged-out stream
 * (`first_seq > last_seq`) is caught up at once, on start, after a reconnect and after recreation.
 */
export class ReplayProgress {
  /** Highest stream sequence delivered (each once). */
  consumed = 0;
  /** Messages delivered since the stream was (re)joined: equals `consumed` when nothing was skipped. */
  count = 0;
  /** Sequences up to here are the replay (jti/sid take the lazy path); above it events are live. */
  target = 0;
  /** Bumped on every reset or rewind: settlements of work started before it are ignored. */
  generation = 0;
  private first = 1;
  /** Sequences being verified, in delivery order; they may settle out of order (checks on the pool). */
  private inFlight: number[] = [];
  private head = 0;
  /** Sequences that settled while an older one was still being verified. */
  private settled = new Set<number>();
  private floor = Infinity;

  /** Starts over on a (new) stream whose state is `first..last`: replays it from its start. */
  reset(first: number, last: number): void {
    this.generation++;
    this.consumed = 0;
    this.count = 0;
    this.target = last;
    this.first = first;
    this.inFlight = [];
    this.head = 0;
    this.settled.clear();
  }

  /** Goes back to re-read the stream from `seq` (events not held in memory, see ParkedEvents). */
  rewind(seq: number): void {
    this.generation++;
    this.consumed = Math.min(this.consumed, seq - 1);
    this.inFlight = [];
    this.head = 0;
    this.settled.clear();
  }

  /** The stream's first sequence now (messages below it aged out or were purged). */
  setFirst(first: number): void {
    this.first = first;
  }

  /** Records a delivery; false for a sequence already delivered (a re-created consumer may resend). */
  deliver(seq: number): boolean {
    if (seq <= this.consumed) return false;
    this.consumed = seq;
    this.count++;
    return true;
  }

  /** Messages up to `seq` are gone from the stream (deleted): nothing there will be delivered. */
  skipTo(seq: number): void {
    if (seq > this.consumed) this.consumed = seq;
  }

  /** `seq` is being verified: the horizon stays below it until `release`. */
  hold(seq: number): void {
    this.inFlight.push(seq);
  }

  /**
   * The verification of `seq` (of `generation`) finished. The horizon passes it only once every older
   * one has finished too: checks on the thread pool can finish out of order.
   */
  release(generation: number, seq: number): void {
    if (generation !== this.generation) return;
    this.settled.add(seq);
    while (this.head < this.inFlight.length && this.settled.delete(this.inFlight[this.head]!)) this.head++;
    if (this.head === this.inFlight.length) {
      this.inFlight = [];
      this.head = 0;
    }
  }

  /** Lowest sequence held outside (parked events, a re-read pending); Infinity for none. */
  setFloor(seq: number): void {
    this.floor = seq;
  }

  /** Every sequence up to here is applied, dropped as invalid, or gone. */
  get applied(): number {
    let h = this.consumed;
    if (this.head < this.inFlight.length) h = Math.min(h, this.inFlight[this.head]! - 1);
    return Math.min(h, this.floor - 1);
  }

  /** Nothing between what was applied and `end` (the stream's last sequence at a mark). */
  caughtUp(end: number | undefined): boolean {
    return end !== undefined && Math.max(this.applied, this.first - 1) >= end;
  }

  /** Whether a stream message at `seq` has aged out (or been purged) below the stream's first sequence. */
  agedOut(seq: number): boolean {
    return seq < this.first;
  }
}
