import { ErrorCode, headers as natsHeaders, type Msg, type NatsError } from 'nats';
import { failure, type RequestPipeline } from './request-pipeline.js';

/**
 * JetStream publishes with many in flight on one connection (./request-pipeline.ts): publishes queued in
 * one event-loop turn are written together, timeouts are one sweep timer, and an ack costs a JSON parse.
 *
 * Why not `js.publish`: nats.js builds a request per publish (a NatsError with its stack captured, a
 * timer, a promise chain), and each publish that resumes from its own callback (a signature finished on
 * the thread pool, a gRPC call) is written to the socket on its own. Same wire protocol: `Nats-Msg-Id`
 * (dedupe of retries) and `Nats-Expected-Stream` headers; a "no responders" status (the stream is
 * missing) is code '503', an unanswered publish 'TIMEOUT'.
 */
export class AckedPublisher {
  constructor(
    private readonly pipeline: RequestPipeline,
    private readonly stream: string,
  ) {}

  /**
   * Publishes `data` on `subject` into the stream; resolves with its stream sequence once acked.
   * Unanswered after `resendMs`, the same message goes again with the same reply subject and msgID
   * (right after a reconnect a publish can be lost; the stream stores it once): any attempt's ack
   * settles it, so under load a slow ack is never thrown away and retried for nothing. Rejects with
   * 'TIMEOUT' after `timeoutMs` in all.
   */
  async publish(
    subject: string,
    data: Uint8Array,
    msgID: string,
    timeoutMs: number,
    resendMs = timeoutMs,
  ): Promise<number> {
    const headers = natsHeaders();
    headers.set('Nats-Msg-Id', msgID);
    // Lands in our stream or fails: never "acked" by some other stream capturing the subject.
    headers.set('Nats-Expected-Stream', this.stream);
    return pubAckSequence(await this.pipeline.request(subject, data, { headers, timeoutMs, resendMs }));
  }
}

/** JetStream's error in a PubAck or API answer, as nats.js reports it on a `NatsError`. */
export interface JetStreamApiError {
  code?: number;
  err_code?: number;
  description?: string;
}

/**
 * The stream sequence of a JetStream PubAck; throws a NatsError otherwise: code '503' (no responders:
 * no stream takes the subject), JetStream's `err_code` with `api_error` set as nats.js sets it (so
 * `isCasConflict` sees a compare-and-set conflict, 10071), or 'BAD_ACK'.
 */
export function pubAckSequence(msg: Msg): number {
  if (msg.headers?.code === 503)
    throw failure(ErrorCode.NoResponders, 'no responders: the stream is not available');
  let ack: { seq?: unknown; error?: JetStreamApiError };
  try {
    ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
  } catch {
    throw failure('BAD_ACK', 'JetStream ack is not JSON');
  }
  if (ack.error) {
    const err: NatsError = failure(
      String(ack.error.err_code ?? ack.error.code ?? 'ERROR'),
      ack.error.description ?? 'JetStream refused the publish',
    );
    err.api_error = {
      code: ack.error.code ?? 0,
      err_code: ack.error.err_code,
      description: ack.error.description ?? '',
    };
    throw err;
  }
  if (typeof ack.seq !== 'number') throw failure('BAD_ACK', 'JetStream ack without a sequence');
  return ack.seq;
}

const decoder = new TextDecoder();
