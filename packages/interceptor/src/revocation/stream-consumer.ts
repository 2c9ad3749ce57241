import { randomBytes } from 'node:crypto';
import {
  AckPolicy,
  createInbox,
  DeliverPolicy,
  nanos,
  type Msg,
  type NatsConnection,
  type NatsError,
  type Subscription,
} from 'nats';

/** JetStream API timeout of the feed's own requests (stream info, consumer create), ms. */
export const API_TIMEOUT_MS = 2000;
/** A consumer restart still pending after this long may be superseded by a new one, ms. */
const RESTART_SUPERSEDE_MS = 6000;
/**
 * Messages the consumer keeps requested from the server, refilled when half were delivered: a 100k
 * replay is 50 pull requests. Not more: with 10k in flight the same replay took ~1.4x as long (the
 * server writes ahead of a client that parses slower and then holds back; 100k events, medians of
 * runs at load ~15 on 2 cores: 4k 2.5 s, 2k 2.7 s, 10k 3.5 s).
 */
export const PULL_MESSAGES = 4000;
/** A pull request lives this long; the server sends a heartbeat every half of it while idle, ms. */
const PULL_EXPIRES_MS = 2000;
/** Nothing heard (message or heartbeat) for this long: the consumer is gone; re-create it, ms. */
const SILENCE_MS = 3 * (PULL_EXPIRES_MS / 2);
/** The server removes a consumer of ours this long after its last pull (one we lost track of), ms. */
const INACTIVE_THRESHOLD_MS = 60_000;

/** One stream message as the feed needs it. */
export type StreamMessageHandler = (seq: number, subject: string, data: Uint8Array) => void;

/**
 * The feed's ordered reader of the revocation stream: an ephemeral pull consumer (no acks, in memory)
 * from a given sequence, read on a plain core subscription, (re)created one at a time; messages of a
 * superseded consumer are ignored.
 *
 * Why not nats.js's ordered consumer: at replay it is the feed's floor, and per message it parses the
 * reply subject into an info object (a split into nine strings and five parseInts), wraps a JsMsg and
 * runs its pull bookkeeping — about a fifth of a replay's CPU. Here the stream and delivery sequences
 * are read from the reply subject's digits in place, and the order is checked the way the ordered
 * consumer does: a delivery sequence that is not the next one (a message lost in transit, a consumer
 * the server lost) re-creates the consumer after the last stream sequence delivered. So does silence
 * (no message and no heartbeat for {@link SILENCE_MS}) and any status that ends the consumer.
 */
export class StreamConsumer {
  /** How many times the consumer was re-created (reconnect, stuck or lost consumer, recreated stream). */
  restarts = 0;
  private generation = 0;
  private sub: Subscription | undefined;
  private name = '';
  private nextSubject = '';
  /** How our messages' reply subjects start (servers without domains): parsed from there on. */
  private ackPrefix = '';
  private inbox = '';
  private lastDelivery = 0;
  private lastStreamSeq = 0;
  /** Messages requested and not delivered (nor given up by an expired pull). */
  private outstanding = 0;
  private heardAt = 0;
  private monitor: NodeJS.Timeout | undefined;
  private restarting: { since: number; done: Promise<boolean> } | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly onMessage: StreamMessageHandler,
  ) {}

  /** Whether a consumer was ever started. */
  get started(): boolean {
    return this.generation > 0;
  }

  /** (Re)creates the consumer from `fromSeq`. */
  async start(fromSeq: number): Promise<void> {
    const gen = ++this.generation;
    this.teardown();
    const jsm = await this.nc.jetstreamManager({ timeout: API_TIMEOUT_MS, checkAPI: false });
    // Short: the name is in every message's reply subject, which the client parses byte by byte (72
    // random bits: unique among the stream's consumers).
    const name = `am_${randomBytes(9).toString('base64url')}`;
    await jsm.consumers.add(this.stream, {
      name,
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, fromSeq),
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
    });
    if (this.stopped || gen !== this.generation) {
      void jsm.consumers.delete(this.stream, name).catch(() => {});
      return;
    }
    this.name = name;
    this.nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${this.stream}.${name}`;
    this.ackPrefix = `$JS.ACK.${this.stream}.${name}.`;
    // The connection's reply prefix: NATS permissions may allow only that one (the auth service's).
    this.inbox = createInbox((this.nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
    this.lastDelivery = 0;
    this.lastStreamSeq = Math.max(1, fromSeq) - 1;
    this.outstanding = 0;
    this.heardAt = performance.now();
    this.sub = this.nc.subscribe(this.inbox, {
      callback: (err, msg) => {
        if (gen === this.generation) this.receive(err, msg);
      },
    });
    this.pull(PULL_MESSAGES);
    this.monitor = setInterval(() => {
      if (gen === this.generation && performance.now() - this.heardAt > SILENCE_MS) this.lost();
    }, PULL_EXPIRES_MS / 2);
    this.monitor.unref();
  }

  /**
   * Re-creates the consumer from `fromSeq`; one at a time, a stuck attempt is superseded. Resolves
   * whether it was created; never rejects.
   */
  restart(fromSeq: number, force = false): Promise<boolean> {
    const now = performance.now();
    if (!force && this.restarting && now - this.restarting.since < RESTART_SUPERSEDE_MS)
      return this.restarting.done;
    this.restarts++;
    const done = this.start(fromSeq)
      .then(() => true)
      .catch(() => {
        // Not reachable yet (e.g. a cluster electing a new leader): the feed retries.
        return false;
      })
      .finally(() => {
        if (this.restarting?.done === done) this.restarting = undefined;
      });
    this.restarting = { since: now, done };
    return done;
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.teardown();
  }

  private receive(err: NatsError | null, msg: Msg): void {
    if (err !== null) return this.lost();
    this.heardAt = performance.now();
    const reply = msg.reply;
    if (!reply) return this.status(msg);
    const seqs = deliverySequences(reply, this.ackPrefix);
    if (seqs === undefined) return;
    const [streamSeq, delivery] = seqs;
    if (delivery !== this.lastDelivery + 1) return this.lost();
    this.lastDelivery = delivery;
    this.lastStreamSeq = streamSeq;
    if (--this.outstanding <= PULL_MESSAGES / 2) this.pull(PULL_MESSAGES - this.outstanding);
    this.onMessage(streamSeq, msg.subject, msg.data);
  }

  /** A status from the server on our inbox (no reply subject): heartbeat, expired pull, or the end. */
  private status(msg: Msg): void {
    const h = msg.headers;
    const code = h?.code ?? 0;
    if (code === 100) return; // idle heartbeat (or flow control, which pull consumers do not use)
    if (code === 408 || code === 409) {
      // A pull that ended (expired, or too many waiting): what it still owed is not coming.
      const left = Number(h?.get('Nats-Pending-Messages') ?? '');
      if (Number.isInteger(left) && left > 0) {
        this.outstanding = Math.max(0, this.outstanding - left);
        this.pull(PULL_MESSAGES - this.outstanding);
        return;
      }
      if (code === 408) return;
      // 409 without a count: consumer deleted, leadership change... start again where we are.
    }
    if (code === 404) return; // no messages (only for no_wait pulls, which we do not send)
    this.lost();
  }

  private pull(batch: number): void {
    if (batch <= 0) return;
    this.outstanding += batch;
    try {
      this.nc.publish(
        this.nextSubject,
        JSON.stringify({
          batch,
          expires: nanos(PULL_EXPIRES_MS),
          idle_heartbeat: nanos(PULL_EXPIRES_MS / 2),
        }),
        { reply: this.inbox },
      );
    } catch {
      // Connection closed or draining: the reconnect path (or close) takes over.
    }
  }

  /** Out of order, silent or ended: re-create after the last stream sequence delivered. */
  private lost(): void {
    if (this.stopped) return;
    void this.restart(this.lastStreamSeq + 1, true);
  }

  private teardown(): void {
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = undefined;
    this.sub?.unsubscribe();
    this.sub = undefined;
    if (this.name !== '') {
      // Best effort: the server drops it after its inactive threshold anyway.
      const name = this.name;
      this.name = '';
      this.nc
        .jetstreamManager({ timeout: API_TIMEOUT_MS, checkAPI: false })
        .then((jsm) => jsm.consumers.delete(this.stream, name))
        .catch(() => {});
    }
  }
}

/**
 * Stream and delivery sequence of a JetStream message, from its reply subject, without allocating:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>` (9 tokens) or, from servers
 * with domains, `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>.<token>`
 * (12). `prefix`, when the reply starts with it, is taken as the first four tokens (no scan for dots).
 * Undefined for anything else.
 */
export function deliverySequences(
  reply: string,
  prefix = '',
): [streamSeq: number, delivery: number] | undefined {
  let i: number;
  if (prefix !== '' && reply.startsWith(prefix)) {
    // The common case, `prefix` being `$JS.ACK.<stream>.<consumer>.`: skip <delivered>.
    i = reply.indexOf('.', prefix.length) + 1;
  } else {
    if (!reply.startsWith('$JS.ACK.')) return undefined;
    let dots = 0;
    for (let j = 0; j < reply.length; j++) if (reply.charCodeAt(j) === 46) dots++;
    // Index of the token holding the stream sequence.
    const at = dots === 8 ? 5 : dots >= 10 ? 7 : -1;
    if (at < 0) return undefined;
    i = 0;
    for (let d = 0; d < at; i++) if (reply.charCodeAt(i) === 46) d++;
  }
  if (i <= 0) return undefined;
  const streamSeq = digits(reply, i);
  if (streamSeq < 0) return undefined;
  i = reply.indexOf('.', i) + 1;
  const delivery = digits(reply, i);
  return delivery < 0 ? undefined : [streamSeq, delivery];
}

/** The decimal number starting at `i` up to the next '.' or the end; -1 when there is none. */
function digits(s: string, i: number): number {
  let n = 0;
  let len = 0;
  for (; i < s.length; i++, len++) {
    const c = s.charCodeAt(i);
    if (c === 46) break;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return len === 0 || len > 15 ? -1 : n;
}

/**
 * The sequence of the first message stored at or after `fromSeq`, or undefined when there is none
 * (the messages up to the stream's end were deleted). JetStream's MSG.GET with `next_by_subj`.
 */
export async function nextStoredSequence(
  nc: NatsConnection,
  stream: string,
  fromSeq: number,
  subjects: string,
): Promise<number | undefined> {
  const reply = await nc.request(
    `$JS.API.STREAM.MSG.GET.${stream}`,
    JSON.stringify({ seq: fromSeq, next_by_subj: subjects }),
    { timeout: API_TIMEOUT_MS },
  );
  const body = JSON.parse(Buffer.from(reply.data).toString()) as {
    message?: { seq?: number };
    error?: { code?: number; err_code?: number };
  };
  if (body.error?.err_code === 10037) return undefined; // no message found
  if (typeof body.message?.seq !== 'number') throw new Error('unexpected MSG.GET reply');
  return body.message.seq;
}
