import { MAX_REVOCATION_EVENT_BYTES } from '@authmesh/interceptor';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, NatsServer } from '@authmesh/testing';
import {
  BUCKETS,
  connectNats,
  ensureRevocationStream,
  REVOCATION_MAX_MSG_SIZE,
  isClusterForming,
  openBuckets,
  retryJetStreamSetup,
  REVOCATION_STREAM,
} from './nats.js';

let server: NatsServer;
beforeAll(async () => {
  server = await NatsServer.start();
});
afterAll(() => server?.stop());

describe('nats', () => {
  it('fails fast with a message naming the servers and NATS_URL, credentials redacted', async () => {
    const port = await freePort();
    await expect(connectNats([`nats://user:pw@127.0.0.1:${port}`], { name: 't' })).rejects.toThrow(
      new RegExp(`^cannot connect to NATS at nats://\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(set NATS_URL\\)`),
    );
  });

  it('keeps refresh and session records for the absolute refresh lifetime; a limit is only ever raised', async () => {
    const nc = await connect({ servers: server.url });
    try {
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      const maxAge = async (name: string) => (await jsm.streams.info(`KV_${name}`)).config.max_age;
      await openBuckets(js, 1, 3600);
      expect(await maxAge(BUCKETS.sessions)).toBe(3600 * 1e9);
      expect(await maxAge(BUCKETS.refresh)).toBe(3600 * 1e9);
      // Users, clients and keys never expire.
      for (const name of [BUCKETS.users, BUCKETS.clients, BUCKETS.keys]) expect(await maxAge(name)).toBe(0);
      await openBuckets(js, 1, 7200);
      expect(await maxAge(BUCKETS.refresh)).toBe(7200 * 1e9);
      // A process with a shorter setting (a CLI from another shell) never lowers it.
      await openBuckets(js, 1, 60);
      expect(await maxAge(BUCKETS.refresh)).toBe(7200 * 1e9);
      expect(await maxAge(BUCKETS.sessions)).toBe(7200 * 1e9);
    } finally {
      await nc.close();
    }
  });

  it('creates every bucket (history 1) and the revocation stream idempotently; its max age is only raised', async () => {
    const nc = await connect({ servers: server.url });
    try {
      const js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      await Promise.all([openBuckets(js, 1), openBuckets(js, 1)]);
      for (const name of Object.values(BUCKETS)) {
        const info = await jsm.streams.info(`KV_${name}`);
        expect(info.config.max_msgs_per_subject).toBe(1);
      }
      await Promise.all(
        [1, 2, 3].map(() => ensureRevocationStream(jsm, { replicas: 1, maxTokenLifetimeSec: 330 })),
      );
      let info = await jsm.streams.info(REVOCATION_STREAM);
      expect(info.config.subjects).toEqual(['authmesh.revoked.>']);
      expect(info.config.max_age).toBe(390 * 1e9);
      expect(info.config.duplicate_window).toBe(120 * 1e9);
      await ensureRevocationStream(jsm, { replicas: 1, maxTokenLifetimeSec: 10 });
      info = await jsm.streams.info(REVOCATION_STREAM);
      expect(info.config.max_age).toBe(390 * 1e9);
      await ensureRevocationStream(jsm, { replicas: 1, maxTokenLifetimeSec: 3600 });
      info = await jsm.streams.info(REVOCATION_STREAM);
      expect(info.config.max_age).toBe(3660 * 1e9);
      // Messages larger than an event's bound are refused, not stored for every replay to move.
      expect(info.config.max_msg_size).toBe(REVOCATION_MAX_MSG_SIZE);
      const js2 = nc.jetstream();
      await expect(js2.publish('authmesh.revoked.jti', new Uint8Array(64 * 1024))).rejects.toThrow();
      await js2.publish('authmesh.revoked.jti', new Uint8Array(MAX_REVOCATION_EVENT_BYTES));
      // A stream from before the bound gets it.
      await jsm.streams.update(REVOCATION_STREAM, { ...info.config, max_msg_size: -1 });
      await ensureRevocationStream(jsm, { replicas: 1, maxTokenLifetimeSec: 3600 });
      info = await jsm.streams.info(REVOCATION_STREAM);
      expect(info.config.max_msg_size).toBe(REVOCATION_MAX_MSG_SIZE);
    } finally {
      await nc.close();
    }
  });

  it('retries a JetStream setup step until it succeeds, and gives up after its time with the last error', async () => {
    let calls = 0;
    const retried: number[] = [];
    const value = await retryJetStreamSetup(
      async () => {
        if (++calls < 3) throw new Error(`not ready ${calls}`);
        return 'ok';
      },
      { onRetry: (_err, attempt) => retried.push(attempt) },
    );
    expect(value).toBe('ok');
    expect(retried).toEqual([1, 2]);
    await expect(
      retryJetStreamSetup(async () => Promise.reject(new Error('no responders')), { forMs: 300 }),
    ).rejects.toThrow('no responders');
  });

  it('retries only what retryIf calls transient (the CLI: a cluster still forming), failing fast otherwise', async () => {
    let calls = 0;
    await expect(
      retryJetStreamSetup(
        async () => {
          calls++;
          throw new Error('bad KEK');
        },
        { retryIf: isClusterForming },
      ),
    ).rejects.toThrow('bad KEK');
    expect(calls).toBe(1);
    expect(isClusterForming(new Error('no suitable peers for placement'))).toBe(true);
    expect(isClusterForming(new Error('insufficient resources'))).toBe(true);
  });
});
