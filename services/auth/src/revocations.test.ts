import { generateKeyPairSync } from 'node:crypto';
import { connect, nanos, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRevocationFeed, type KeyStore, type VerificationKey } from '@authmesh/interceptor';
import { NatsServer } from '@authmesh/testing';
import { RevocationPublisher } from './revocations.js';

const ISS = 'http://auth.test';
const pair = generateKeyPairSync('ed25519');
const keys = { current: () => ({ kid: 'k1', alg: 'EdDSA' as const, privateKey: pair.privateKey }) };
const verification: VerificationKey = { kid: 'k1', alg: 'EdDSA', key: pair.publicKey };
const keyStore: KeyStore = {
  epoch: 0,
  get: (kid) => (kid === 'k1' ? verification : undefined),
  resolve: async (kid) => (kid === 'k1' ? verification : undefined),
  refresh: async () => {},
  remove: () => {},
  ready: async () => {},
  close: () => {},
};

describe('RevocationPublisher', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  const open = async (over: Partial<Parameters<typeof RevocationPublisher.open>[0]> = {}) =>
    RevocationPublisher.open({
      jsm: await nc.jetstreamManager(),
      keys,
      issuer: ISS,
      maxTokenLifetimeSec: 300,
      replicas: 1,
      nc,
      ...over,
    });

  it('validates options with a TypeError naming the option', async () => {
    await expect(open({ issuer: '' })).rejects.toThrow(/issuer/);
    await expect(open({ maxTokenLifetimeSec: 0 })).rejects.toThrow(/maxTokenLifetimeSec/);
    await expect(open({ replicas: 0 })).rejects.toThrow(/replicas/);
  });

  it('creates the stream (max age ≥ token lifetime), publishes signed events a feed applies, acked before return', async () => {
    const jsm = await nc.jetstreamManager();
    const pub = await open();
    const info = await jsm.streams.info('AUTHMESH_REVOCATIONS');
    expect(info.config.subjects).toEqual(['authmesh.revoked.>']);
    expect(info.config.max_age).toBeGreaterThanOrEqual(nanos(300_000));
    await open({ maxTokenLifetimeSec: 900 }); // idempotent; updates the limits
    expect((await jsm.streams.info('AUTHMESH_REVOCATIONS')).config.max_age).toBeGreaterThanOrEqual(
      nanos(900_000),
    );

    const exp = Math.floor(Date.now() / 1000) + 300;
    const r1 = await pub.revoke('sub', 'alice', { exp, reason: 'compromised' });
    expect(r1.sequence).toBe(1);
    expect(Math.abs(r1.at - Date.now() / 1000)).toBeLessThan(2);
    // Durable before return: the stream already holds it.
    expect((await jsm.streams.info('AUTHMESH_REVOCATIONS')).state.last_seq).toBe(1);
    await expect(pub.revoke('all', 'x', { exp, reason: '' })).rejects.toThrow(TypeError);
    await expect(pub.revoke('jti', '', { exp, reason: '' })).rejects.toThrow(TypeError);

    const feed = createRevocationFeed({ connection: nc, keys: keyStore, issuer: ISS });
    try {
      await feed.ready();
      const tok = { jti: 'j', sid: undefined, sub: 'alice', iat: r1.at - 10, kid: 'k0' };
      expect(feed.isRevoked(tok)).toBe(true);
      const r2 = await pub.revoke('jti', 'jti-2', { exp, reason: 'logout' });
      expect(r2.sequence).toBe(2);
      const t0 = Date.now();
      // The core-NATS fast path may apply the event before the stream consumer delivers it: wait for both.
      while (!feed.isRevoked({ ...tok, sub: 'bob', jti: 'jti-2' }) || feed.stats().lastSequence < 2) {
        if (Date.now() - t0 > 5000) throw new Error('live event not applied within 5 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(feed.stats()).toMatchObject({ droppedEvents: 0, lastSequence: 2 });
    } finally {
      await feed.close();
    }
    expect(nc.isClosed()).toBe(false); // the feed does not close a connection it was given
  });

  it('announces rotations on authmesh.keys.rotated', async () => {
    const pub = await open();
    const sub = nc.subscribe('authmesh.keys.rotated', { max: 1 });
    await nc.flush();
    await pub.announceRotation('k2');
    for await (const m of sub) expect(m.json()).toEqual({ kid: 'k2' });
  });

  it('a revoke issued right after a NATS restart is acked (retried with one msgID) and stored once', async () => {
    const pub = await open();
    const jsm = await nc.jetstreamManager();
    const before = (await jsm.streams.info('AUTHMESH_REVOCATIONS')).state.last_seq;
    server.kill();
    await new Promise((r) => setTimeout(r, 300));
    await server.restart();
    // Issued while our client is still reconnecting: this first publish is buffered and goes unanswered.
    const t0 = Date.now();
    const r = await pub.revoke('jti', 'after-restart', {
      exp: Math.floor(Date.now() / 1000) + 60,
      reason: '',
    });
    console.log(`[publisher] revoke right after a restart acked in ${Date.now() - t0} ms`);
    const info = await jsm.streams.info('AUTHMESH_REVOCATIONS');
    expect(info.state.last_seq).toBe(r.sequence);
    expect(r.sequence).toBe(before + 1);
  });

  it('rejects when NATS does not ack (the RPC maps it to UNAVAILABLE)', async () => {
    const pub = await open({ ackTimeoutMs: 500 });
    server.kill();
    try {
      // A NatsError (rpc/errors.ts maps those to UNAVAILABLE), whichever way the event was published.
      await expect(
        pub.revoke('jti', 'lost', { exp: Math.floor(Date.now() / 1000) + 60, reason: '' }),
      ).rejects.toMatchObject({ name: 'NatsError', code: 'TIMEOUT' });
    } finally {
      await server.restart();
    }
  });
});
