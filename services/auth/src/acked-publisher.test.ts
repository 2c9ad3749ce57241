import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { AckedPublisher } from './acked-publisher.js';
import { RequestPipeline } from './request-pipeline.js';

// A core subscriber stands in for the stream: it sees exactly what JetStream would (headers, reply
// subject) and answers as JetStream does, so lost and late acks can be staged.
describe('AckedPublisher', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let responder: NatsConnection;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
    responder = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await nc?.close();
    await responder?.close();
    await server?.stop();
  });

  it('sends the stream headers; an unanswered message goes again on the same reply subject, any ack settles it', async () => {
    const seen: { reply: string; msgId: string | undefined; stream: string | undefined }[] = [];
    const sub = responder.subscribe('test.lost', {
      callback: (_e, m) => {
        seen.push({
          reply: m.reply ?? '',
          msgId: m.headers?.get('Nats-Msg-Id'),
          stream: m.headers?.get('Nats-Expected-Stream'),
        });
        // The first send is "lost"; the second is answered.
        if (seen.length === 2) m.respond(JSON.stringify({ stream: 'S', seq: 7 }));
      },
    });
    await responder.flush();
    const requests = new RequestPipeline(nc);
    const pub = new AckedPublisher(requests, 'S');
    try {
      await expect(pub.publish('test.lost', new Uint8Array([1]), 'm-1', 5000, 100)).resolves.toBe(7);
      expect(seen).toHaveLength(2);
      expect(seen[1]).toEqual(seen[0]);
      expect(seen[0]).toMatchObject({ msgId: 'm-1', stream: 'S' });
    } finally {
      requests.close();
      sub.unsubscribe();
    }
  });

  it("takes its reply subjects under the connection's inbox prefix (a NATS user may be allowed only that)", async () => {
    const prefixed = await connect({ servers: server.url, inboxPrefix: '_TEST_OWN_INBOX' });
    const replies: string[] = [];
    const sub = responder.subscribe('test.prefix', {
      callback: (_e, m) => {
        replies.push(m.reply ?? '');
        m.respond(JSON.stringify({ stream: 'S', seq: 3 }));
      },
    });
    await responder.flush();
    const requests = new RequestPipeline(prefixed);
    const pub = new AckedPublisher(requests, 'S');
    try {
      await expect(pub.publish('test.prefix', new Uint8Array([1]), 'm-p', 5000, 100)).resolves.toBe(3);
      expect(replies[0]).toMatch(/^_TEST_OWN_INBOX\./);
    } finally {
      requests.close();
      sub.unsubscribe();
      await prefixed.close();
    }
  });

  it('a late ack of the first send settles it after a resend went out', async () => {
    let sends = 0;
    const sub = responder.subscribe('test.late', {
      // Only the first send is answered, and late (after two resends went out).
      callback: (_e, m) => {
        if (++sends === 1) setTimeout(() => m.respond(JSON.stringify({ stream: 'S', seq: 9 })), 250);
      },
    });
    await responder.flush();
    const requests = new RequestPipeline(nc);
    const pub = new AckedPublisher(requests, 'S');
    try {
      await expect(pub.publish('test.late', new Uint8Array([1]), 'm-2', 5000, 50)).resolves.toBe(9);
      expect(sends).toBeGreaterThan(1);
    } finally {
      requests.close();
      sub.unsubscribe();
    }
  });

  it('rejects with NatsErrors: TIMEOUT when never acked, 503 with no stream, JetStream error codes', async () => {
    const quiet = responder.subscribe('test.quiet', { callback: () => {} });
    const refusing = responder.subscribe('test.refused', {
      callback: (_e, m) =>
        m.respond(
          JSON.stringify({
            error: { code: 400, err_code: 10060, description: 'expected stream does not match' },
          }),
        ),
    });
    await responder.flush();
    const requests = new RequestPipeline(nc);
    const pub = new AckedPublisher(requests, 'S');
    try {
      await expect(pub.publish('test.quiet', new Uint8Array([1]), 'm-3', 200, 50)).rejects.toMatchObject({
        name: 'NatsError',
        code: 'TIMEOUT',
      });
      await expect(pub.publish('test.nobody', new Uint8Array([1]), 'm-4', 2000)).rejects.toMatchObject({
        name: 'NatsError',
        code: '503',
      });
      await expect(pub.publish('test.refused', new Uint8Array([1]), 'm-5', 2000)).rejects.toMatchObject({
        name: 'NatsError',
        code: '10060',
      });
    } finally {
      requests.close();
      quiet.unsubscribe();
      refusing.unsubscribe();
    }
  });

  it('close rejects what is in flight', async () => {
    const quiet = responder.subscribe('test.closing', { callback: () => {} });
    await responder.flush();
    const requests = new RequestPipeline(nc);
    const pub = new AckedPublisher(requests, 'S');
    const pending = pub.publish('test.closing', new Uint8Array([1]), 'm-6', 5000);
    requests.close();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    quiet.unsubscribe();
  });
});
