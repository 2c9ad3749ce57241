import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type KV, type NatsConnection } from 'nats';
import { NatsServer } from '@authmesh/testing';
import { RequestPipeline } from '../request-pipeline.js';
import { isCasConflict } from './kv.js';
import { PipelinedKv } from './pipelined-kv.js';
import type { KvBucket } from './record-mac.js';

// The pipelined bucket must answer exactly as nats.js's KV does: each case runs the same operations on
// both and compares.
describe('PipelinedKv', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let requests: RequestPipeline;
  let kv: KV;
  let piped: KvBucket;
  const enc = (s: string) => new TextEncoder().encode(s);

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url });
    kv = await nc.jetstream().views.kv('PIPED', { history: 1 });
    requests = new RequestPipeline(nc);
    piped = await PipelinedKv.wrap(kv, 'PIPED', await nc.jetstreamManager(), requests);
  });
  afterAll(async () => {
    requests?.close();
    await nc?.close();
    await server?.stop();
  });

  const view = (e: Awaited<ReturnType<KV['get']>>) =>
    e && {
      key: e.key,
      revision: e.revision,
      operation: e.operation,
      value: Buffer.from(e.value).toString(),
      created: e.created.getTime(),
    };

  it('is pipelined on a bucket that allows direct gets (every bucket of a 2.9+ server)', () => {
    expect(piped).toBeInstanceOf(PipelinedKv);
  });

  it('reads of one key in one turn share one request; a read in a later turn sees a write in between', async () => {
    await piped.put('shared', enc('v1'));
    const sent: string[] = [];
    const publish = nc.publish.bind(nc);
    nc.publish = (subject, ...rest) => {
      sent.push(subject);
      return publish(subject, ...rest);
    };
    try {
      const reads = await Promise.all([
        piped.get('shared'),
        piped.get('shared'),
        piped.get('other'),
        piped.get('shared'),
      ]);
      expect(sent.filter((s) => s.endsWith('.shared'))).toHaveLength(1);
      expect(sent.filter((s) => s.endsWith('.other'))).toHaveLength(1);
      expect(reads.map((e) => e && Buffer.from(e.value).toString())).toEqual(['v1', 'v1', null, 'v1']);
      await piped.put('shared', enc('v2'));
      sent.length = 0;
      expect(Buffer.from((await piped.get('shared'))!.value).toString()).toBe('v2');
      expect(sent.filter((s) => s.endsWith('.shared'))).toHaveLength(1);
    } finally {
      nc.publish = publish;
    }
  });

  it('reads what nats.js reads: missing, written, deleted, a key that is a prefix of another', async () => {
    expect(await piped.get('nothing')).toBeNull();
    const rev = await piped.put('a', enc('one'));
    await kv.put('a.b', enc('two'));
    expect(view(await piped.get('a'))).toEqual(view(await kv.get('a')));
    expect((await piped.get('a'))?.revision).toBe(rev);
    expect(view(await piped.get('a.b'))).toEqual(view(await kv.get('a.b')));
    await kv.delete('a');
    expect(view(await piped.get('a'))).toEqual(view(await kv.get('a')));
    expect((await piped.get('a'))?.operation).toBe('DEL');
    // An older revision is nats.js's read.
    expect(view(await piped.get('a.b', { revision: (await kv.get('a.b'))!.revision }))).toMatchObject({
      value: 'two',
    });
  });

  it('compare-and-set: create and update conflict as nats.js does; create takes a deleted key', async () => {
    const first = await piped.create('cas', enc('v1'));
    const conflict = await piped.create('cas', enc('again')).catch((e: unknown) => e);
    expect(isCasConflict(conflict)).toBe(true);
    const stale = await piped.update('cas', enc('v2'), first + 1000).catch((e: unknown) => e);
    expect(isCasConflict(stale)).toBe(true);
    const second = await piped.update('cas', enc('v2'), first);
    expect(second).toBeGreaterThan(first);
    expect(Buffer.from((await kv.get('cas'))!.value).toString()).toBe('v2');
    await piped.delete('cas');
    const recreated = await piped.create('cas', enc('v3'));
    expect(view(await piped.get('cas'))).toMatchObject({
      revision: recreated,
      operation: 'PUT',
      value: 'v3',
    });
  });

  it('of 50 concurrent compare-and-sets on one revision exactly one wins', async () => {
    const rev = await piped.put('race', enc('0'));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => piped.update('race', enc(String(i + 1)), rev)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(isCasConflict(o.reason)).toBe(true);
  });

  it('a write to a bucket that is gone fails with no responders (503), as nats.js reports it', async () => {
    const other = await nc.jetstream().views.kv('GONE', { history: 1 });
    const gone = await PipelinedKv.wrap(other, 'GONE', await nc.jetstreamManager(), requests);
    await (await nc.jetstreamManager()).streams.delete('KV_GONE');
    await expect(gone.put('k', enc('x'))).rejects.toMatchObject({ code: '503' });
  });
});
