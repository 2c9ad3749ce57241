import type { ConsumerMessages, JsMsg, NatsConnection } from 'nats';

/** JetStream API timeout of the feed's own requests (stream info, consumer create), ms. */
export const API_TIMEOUT_MS = 2000;
/**
 * Messages the consumer keeps requested from the server, refilled when half were delivered. ~4 MiB
 * of typical events (~400 B) in flight, well under the server's per-client max_pending (64 MiB by
 * default). (nats.js cannot bound pulls by bytes alone: with max_bytes it asks 100 messages at a time.)
 */
export const PULL_MESSAGES = 10_000;
/** A consumer restart still pending after this long may be superseded by a new one, ms. */
const RESTART_SUPERSEDE_MS = 6000;

/**
 * The feed's ordered consumer on the revocation stream: (re)created from a given sequence, one at a
 * time; messages of a superseded consumer are ignored.
 */
export class StreamConsumer {
  /** How many times the consumer was re-created (reconnect, stuck consumer, recreated stream). */
  restarts = 0;
  private generation = 0;
  private messages: ConsumerMessages | undefined;
  private restarting: { since: number; done: Promise<boolean> } | undefined;
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream: string,
    private readonly onMessage: (m: JsMsg) => void,
  ) {}

  /** Whether a consumer was ever started. */
  get started(): boolean {
    return this.generation > 0;
  }

  /** (Re)creates the consumer from `fromSeq`. */
  async start(fromSeq: number): Promise<void> {
    const gen = ++this.generation;
    this.messages?.stop();
    this.messages = undefined;
    // Short API timeouts: after a node loss the next attempt should come within seconds, not tens.
    const js = this.nc.jetstream({ timeout: API_TIMEOUT_MS });
    const consumer = await js.consumers.get(this.stream, { opt_start_seq: Math.max(1, fromSeq) });
    if (this.stopped || gen !== this.generation) return;
    // Short pulls: heartbeats (expires / 2) then notice a dead consumer within seconds, and the ordered
    // consumer re-creates itself from the last stream sequence it delivered. Pulls are sized in bytes
    // and large: a replay of 100k events was ~200 pull requests of 500 messages, each a socket write
    // that on a loaded machine cost milliseconds; now 20 (one per PULL_MESSAGES / 2 delivered).
    this.messages = await consumer.consume({
      max_messages: PULL_MESSAGES,
      threshold_messages: PULL_MESSAGES / 2,
      expires: 2000,
      callback: (m: JsMsg) => {
        if (gen === this.generation) this.onMessage(m);
      },
    });
    if (this.stopped) this.messages.stop();
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
    this.messages?.stop();
  }
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
