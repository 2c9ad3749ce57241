import {
  createInbox,
  ErrorCode,
  NatsError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from 'nats';

/** Options of one {@link RequestPipeline.request}. */
export interface PipelinedRequestOptions {
  headers?: MsgHdrs | undefined;
  /** Rejects with code 'TIMEOUT' when no answer came in this long, ms. */
  timeoutMs: number;
  /**
   * Unanswered after this long, the same message goes again on the same reply subject (any attempt's
   * answer settles it), ms. Only for requests that are safe to repeat (a publish deduplicated by its
   * `Nats-Msg-Id`). Default: never.
   */
  resendMs?: number | undefined;
  /**
   * A read (empty body, no headers): an identical read made earlier in this turn and not sent yet
   * answers this one too. They would leave in the same write, so they could only get the same answer.
   */
  shareable?: boolean | undefined;
}

interface Outgoing {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  reply: string;
}

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (err: Error) => void;
  deadline: number;
  resendAt: number;
  resendMs: number;
  out: Outgoing;
}

/** How often unanswered requests are swept, ms: the timeout's resolution. */
const SWEEP_MS = 25;

/**
 * Request/reply with many requests in flight on one connection, for the auth service's hot paths (KV
 * reads and compare-and-sets of a Refresh, revocation publishes). Every request carries its own reply
 * subject under one wildcard subscription of the connection's inbox prefix (a least-privilege NATS user
 * may subscribe there only), requests made in one event-loop turn leave in one socket write, and
 * timeouts are one sweep timer.
 *
 * Why not `nc.request`: per request nats.js arms a timer, and settles it by "cancelling" it, which builds
 * a NatsError with its stack captured even on success (about 6 % of a Refresh's CPU), and each request
 * made from its own callback (a gRPC call, a KV answer) is written to the socket on its own (another
 * 10 %: a loopback write also runs the receiver's TCP processing).
 *
 * The answer is handed back as nats.js delivers it; status answers (`headers.code`, e.g. 503 no
 * responders, 404) are the caller's to read.
 */
export class RequestPipeline {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private queue: Outgoing[] = [];
  /** Shareable reads queued this turn, by subject (cleared when the queue leaves). */
  private unsentReads = new Map<string, Promise<Msg>>();
  private flushScheduled = false;
  private sweeper: NodeJS.Timeout | undefined;
  private next = 0;
  private closed = false;

  constructor(private readonly nc: NatsConnection) {
    this.prefix = `${createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (err) return;
        const id = msg.subject.slice(this.prefix.length);
        const p = this.pending.get(id);
        if (!p) return; // answered after its timeout
        this.pending.delete(id);
        p.resolve(msg);
      },
    });
  }

  /** Sends `data` to `subject` and resolves with the first answer. */
  request(subject: string, data: Uint8Array, options: PipelinedRequestOptions): Promise<Msg> {
    if (this.closed) return Promise.reject(failure('CLOSED', 'request pipeline closed'));
    const shared = options.shareable === true && data.length === 0 && options.headers === undefined;
    if (shared) {
      const queued = this.unsentReads.get(subject);
      if (queued) return queued;
    }
    const id = (this.next++).toString(36);
    const out: Outgoing = { subject, data, headers: options.headers, reply: this.prefix + id };
    const now = Date.now();
    const resendMs = options.resendMs ?? Infinity;
    const answered = new Promise<Msg>((resolve, reject) =>
      this.pending.set(id, {
        resolve,
        reject,
        deadline: now + options.timeoutMs,
        resendAt: now + resendMs,
        resendMs,
        out,
      }),
    );
    this.send(out);
    if (shared) this.unsentReads.set(subject, answered);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    return answered;
  }

  /**
   * A write to what `subject` reads is being made: a read of it queued this turn is not shared with
   * reads made after this point (they must see the write's turn, not an earlier one).
   */
  forgetUnsentRead(subject: string): void {
    this.unsentReads.delete(subject);
  }

  /**
   * Publishes without waiting for anything (the audit trail), in the same write as this turn's requests.
   * Like `nc.publish`, it throws only for a closed pipeline; a publish the connection refuses is dropped.
   */
  publish(subject: string, data: Uint8Array | string): void {
    if (this.closed) throw failure('CLOSED', 'request pipeline closed');
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    this.send({ subject, data: bytes, headers: undefined, reply: '' });
  }

  /** Rejects whatever is still in flight (code 'CLOSED'); the subscription ends. */
  close(): void {
    this.closed = true;
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(failure('CLOSED', 'request pipeline closed'));
    this.pending.clear();
    this.queue = [];
    this.unsentReads.clear();
    this.stopSweeping();
  }

  private send(out: Outgoing): void {
    this.queue.push(out);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After the current turn's callbacks (every gRPC call and KV answer of this poll): their requests
      // leave in one write.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    this.unsentReads.clear();
    for (const o of batch) {
      try {
        if (o.reply === '') this.nc.publish(o.subject, o.data);
        else this.nc.publish(o.subject, o.data, { reply: o.reply, headers: o.headers });
      } catch (err) {
        if (o.reply === '') continue;
        // Closed or draining connection, or a bad subject: this request fails now, the others go on.
        const id = o.reply.slice(this.prefix.length);
        const p = this.pending.get(id);
        this.pending.delete(id);
        p?.reject(err as Error);
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(id);
        p.reject(failure(ErrorCode.Timeout, 'no answer from NATS in time'));
      } else if (p.resendAt <= now) {
        p.resendAt = now + p.resendMs;
        this.send(p.out);
      }
    }
    if (this.pending.size === 0 && this.queue.length === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

const encoder = new TextEncoder();

/** A failure as nats.js reports one (`NatsError`, which the RPCs map to UNAVAILABLE). */
export function failure(code: string, message: string): NatsError {
  return new NatsError(message, code);
}
