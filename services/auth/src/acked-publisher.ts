import {
  createInbox,
  ErrorCode,
  headers as natsHeaders,
  NatsError,
  type NatsConnection,
  type Subscription,
} from 'nats';

/**
 * A failure as nats.js reports it (`NatsError`, which the RPC maps to UNAVAILABLE): code 'TIMEOUT'
 * (no ack in time), '503' (no responders: the stream is missing), or JetStream's error code.
 */
function failure(code: string, message: string): NatsError {
  return new NatsError(message, code);
}

interface Pending {
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
  deadline: number;
  /** When the message is sent again (same reply subject, same msgID) if still unanswered. */
  resendAt: number;
  resendMs: number;
  out: Outgoing;
}

interface Outgoing {
  subject: string;
  data: Uint8Array;
  msgID: string;
  reply: string;
}

/** How often expired publishes are swept, ms: the timeout's resolution. */
const SWEEP_MS = 25;

/**
 * JetStream publishes with many in flight on one connection: every publish carries its own reply
 * subject under one wildcard inbox subscription, and the stream's ack (PubAck JSON) settles it.
 *
 * Why not `js.publish`: nats.js builds a request per publish (a NatsError with its stack captured up
 * front for a possible timeout, a timer, a promise chain), and each publish that resumes from its own
 * callback (a signature finished on the thread pool, a gRPC call) is written to the socket on its own.
 * Here publishes queued in one event-loop turn are written together (one socket write), timeouts are
 * one sweep timer, and an ack costs a JSON parse. Same wire protocol: `Nats-Msg-Id` (dedupe of
 * retries) and `Nats-Expected-Stream` headers; a "no responders" status (the stream is missing) is
 * code '503', an unanswered publish 'TIMEOUT'.
 */
export class AckedPublisher {
  private readonly prefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private queue: Outgoing[] = [];
  private flushScheduled = false;
  private sweeper: NodeJS.Timeout | undefined;
  private next = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
  ) {
    // Under the connection's own inbox prefix: a least-privilege NATS user (deploy/nats-server.conf)
    // may subscribe there only, never to `_INBOX.>`, and its acks would otherwise never arrive.
    this.prefix = `${createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (err) return;
        const p = this.pending.get(msg.subject.slice(this.prefix.length));
        if (!p) return; // answered after its timeout: the retry (same msgID) gets its own answer
        this.pending.delete(msg.subject.slice(this.prefix.length));
        if (msg.headers?.code === 503) {
          p.reject(failure(ErrorCode.NoResponders, 'no responders: the stream is not available'));
          return;
        }
        try {
          const ack = JSON.parse(new TextDecoder().decode(msg.data)) as {
            seq?: unknown;
            error?: { code?: number; err_code?: number; description?: string };
          };
          if (ack.error)
            p.reject(
              failure(
                String(ack.error.err_code ?? ack.error.code ?? 'ERROR'),
                ack.error.description ?? 'JetStream refused the publish',
              ),
            );
          else if (typeof ack.seq === 'number') p.resolve(ack.seq);
          else p.reject(failure('BAD_ACK', 'JetStream ack without a sequence'));
        } catch {
          p.reject(failure('BAD_ACK', 'JetStream ack is not JSON'));
        }
      },
    });
  }

  /**
   * Publishes `data` on `subject` into the stream; resolves with its stream sequence once acked.
   * Unanswered after `resendMs`, the same message goes again with the same reply subject and msgID
   * (right after a reconnect a publish can be lost; the stream stores it once): any attempt's ack
   * settles it, so under load a slow ack is never thrown away and retried for nothing. Rejects with
   * 'TIMEOUT' after `timeoutMs` in all.
   */
  publish(
    subject: string,
    data: Uint8Array,
    msgID: string,
    timeoutMs: number,
    resendMs = timeoutMs,
  ): Promise<number> {
    const id = (this.next++).toString(36);
    const out: Outgoing = { subject, data, msgID, reply: this.prefix + id };
    const now = Date.now();
    const done = new Promise<number>((resolve, reject) =>
      this.pending.set(id, {
        resolve,
        reject,
        deadline: now + timeoutMs,
        resendAt: now + resendMs,
        resendMs,
        out,
      }),
    );
    this.send(out);
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    return done;
  }

  private send(out: Outgoing): void {
    this.queue.push(out);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // After the current turn's callbacks (every signature the thread pool finished in this poll):
      // their publishes leave in one write.
      setImmediate(() => this.flush());
    }
  }

  /** Rejects whatever is still in flight; the subscription ends. */
  close(): void {
    this.sub.unsubscribe();
    for (const p of this.pending.values()) p.reject(failure('CLOSED', 'publisher closed'));
    this.pending.clear();
    this.stopSweeping();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const o of batch) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', o.msgID);
      // Lands in our stream or fails: never "acked" by some other stream capturing the subject.
      h.set('Nats-Expected-Stream', this.stream);
      try {
        this.nc.publish(o.subject, o.data, { reply: o.reply, headers: h });
      } catch (err) {
        const p = this.pending.get(o.reply.slice(this.prefix.length));
        this.pending.delete(o.reply.slice(this.prefix.length));
        p?.reject(err as Error);
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(id);
        p.reject(failure(ErrorCode.Timeout, 'no JetStream ack in time'));
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
