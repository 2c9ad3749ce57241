import { generateKeyPairSync } from 'node:crypto';
import { connect, nanos, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsCluster } from '@authmesh/testing';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import { signRevocationEvent } from './event.js';
import { createRevocationFeed, type NatsRevocationFeed } from './feed.js';

const ISS = 'http://issuer.test';
const pair = generateKeyPairSync('ed25519');
const vk: VerificationKey = { kid: 'k1', alg: 'EdDSA', key: pair.publicKey };
const keys: KeyStore = {
  epoch: 0,
  get: (kid) => (kid === 'k1' ? vk : undefined),
  resolve: async (kid) => (kid === 'k1' ? vk : undefined),
  refresh: async () => {},
  remove: () => {},
  ready: async () => {},
  close: () => {},
};
const now = () => Math.floor(Date.now() / 1000);
const tok = (jti: string) => ({ jti, sid: undefined, sub: 's', iat: now() - 10, kid: 'k0' });

async function until(cond: () => boolean, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

// A 3-node JetStream cluster with an R3 stream: losing the node a feed is connected to must not lose events.
describe('revocation feed on a 3-node NATS cluster', () => {
  let cluster: NatsCluster;
  let pub: NatsConnection;
  let sub: NatsConnection | undefined;
  let feed: NatsRevocationFeed | undefined;
  beforeAll(async () => {
    cluster = await NatsCluster.start(3);
  }, 60_000);
  afterAll(async () => {
    await feed?.close();
    await sub?.close();
    await pub?.close();
    await cluster?.stop();
  });

  it('keeps applying events published while the feed’s node is down and after it returns', async () => {
    // The feed talks to node 1 first; the publisher to node 3 only.
    pub = await connect({ servers: cluster.nodes[2]!.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const jsm = await pub.jetstreamManager();
    await jsm.streams.add({
      name: 'AUTHMESH_REVOCATIONS',
      subjects: ['authmesh.revoked.>'],
      num_replicas: 3,
      max_age: nanos(600_000),
    });
    const js = pub.jetstream();
    const publish = async (jti: string) => {
      const jws = await signRevocationEvent(
        { v: 1, kind: 'jti', value: jti, at: now(), exp: now() + 600, reason: '' },
        { kid: 'k1', alg: 'EdDSA', privateKey: pair.privateKey },
        ISS,
      );
      for (let attempt = 0; ; attempt++) {
        try {
          return (await js.publish('authmesh.revoked.jti', new TextEncoder().encode(jws), { timeout: 1000 }))
            .seq;
        } catch (err) {
          if (attempt > 150) throw err; // stream leader election after a node loss takes a moment (≤ 15 s)
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    await publish('before');
    // Pinned to node 1 (no randomizing), so killing node 1 is killing the feed's own server.
    sub = await connect({
      servers: cluster.nodes.map((n) => n.url),
      noRandomize: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    // Stream path only: what the feed's consumer must deliver after losing its node (the core fast path
    // would mask a gap).
    feed = createRevocationFeed({
      connection: sub,
      keys,
      issuer: ISS,
      maxStalenessMs: 5000,
      coreFastPath: false,
    });
    await feed.ready();
    await until(() => feed!.isRevoked(tok('before')), 5000, 'replayed event');

    const first = cluster.nodes[0]!;
    expect(sub.getServer()).toBe(first.url.replace('nats://', ''));
    first.kill();
    for (let i = 0; i < 5; i++) await publish(`during-${i}`);
    // Bounded by JetStream itself: a consumer is recreated only once the cluster elected new meta and
    // stream leaders and the ordered consumer noticed missed heartbeats (seen 0.2-20 s on 2 busy cores).
    const ms = await until(
      () => feed!.isRevoked(tok('during-4')),
      40_000,
      'events published while a node is down',
    );
    console.log(
      `[feed cluster] events published during the node loss applied ${ms.toFixed(0)} ms after the last publish`,
    );
    for (let i = 0; i < 5; i++) expect(feed.isRevoked(tok(`during-${i}`))).toBe(true);

    await first.restart();
    for (let i = 0; i < 3; i++) await publish(`after-${i}`);
    await until(() => feed!.isRevoked(tok('after-2')), 30_000, 'events after the node returned');
    await until(() => !feed!.isStale(), 10_000, 'current');
    expect(feed.stats()).toMatchObject({ droppedEvents: 0, consumed: 9, lastSequence: 9 });
    console.log(`[feed cluster] stats ${JSON.stringify(feed.stats())}`);
  }, 120_000);
});
