import { generateKeyPairSync, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect, nanos, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, NatsServer } from '@authmesh/testing';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import { signRevocationEvent } from './event.js';
import { createRevocationFeed, type NatsRevocationFeed } from './feed.js';
import type {
  RevocationBatchClaims,
  RevocationEventClaims,
  RevocationKind,
  RevocationSubject,
} from './revocation.types.js';

const ISS = 'http://issuer.test';
const STREAM = 'AUTHMESH_REVOCATIONS';
const signer = generateKeyPairSync('ed25519');
const attacker = generateKeyPairSync('ed25519');
const KEY = { kid: 'k1', alg: 'EdDSA', privateKey: signer.privateKey };
const now = () => Math.floor(Date.now() / 1000);

/**
 * A tiny KeyStore over fixed keys, counting refreshes and removals. `fresh`: it reports a JWKS load
 * "just now" (so an event signed by an unknown kid counts as forged at the next check); otherwise it
 * reports none (parked events wait for the key set to change).
 */
function keyStore({ fresh = true } = {}): Omit<KeyStore, 'epoch'> & {
  epoch: number;
  refreshes: number;
  removed: string[];
  add(k: VerificationKey): void;
} {
  const map = new Map<string, VerificationKey>([['k1', { kid: 'k1', alg: 'EdDSA', key: signer.publicKey }]]);
  return {
    refreshes: 0,
    removed: [],
    epoch: 0,
    add(k) {
      map.set(k.kid, k);
      this.epoch++;
    },
    get: (kid) => map.get(kid),
    resolve: async (kid) => map.get(kid),
    async refresh() {
      this.refreshes++;
    },
    remove(kid) {
      this.removed.push(kid);
    },
    ready: async () => {},
    close: () => {},
    get loadedAt() {
      return fresh ? performance.now() : undefined;
    },
  };
}

const claims = (
  kind: RevocationKind,
  value: string,
  over: Partial<RevocationEventClaims> = {},
): RevocationEventClaims => ({
  v: 1,
  kind,
  value,
  at: now(),
  exp: now() + 600,
  reason: 'test',
  ...over,
});
const tok = (over: Partial<RevocationSubject>): RevocationSubject => ({
  jti: 'none',
  sid: undefined,
  sub: 'nobody',
  iat: now() - 1000,
  kid: 'k0',
  ...over,
});

async function until(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - t0;
}

async function createStream(nc: NatsConnection): Promise<void> {
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: STREAM, subjects: ['authmesh.revoked.>'], max_age: nanos(600_000) });
}

async function publish(
  nc: NatsConnection,
  c: RevocationEventClaims,
  key: { kid: string; alg: string; privateKey: KeyObject } = KEY,
): Promise<number> {
  const jws = await signRevocationEvent(c, key, ISS);
  const ack = await nc.jetstream().publish(`authmesh.revoked.${c.kind}`, new TextEncoder().encode(jws));
  return ack.seq;
}

describe('createRevocationFeed against a real nats-server', () => {
  let server: NatsServer;
  let nc: NatsConnection;
  const feeds: NatsRevocationFeed[] = [];
  const open = (over: Partial<Parameters<typeof createRevocationFeed>[0]> = {}) => {
    const f = createRevocationFeed({
      servers: server.url,
      keys: keyStore(),
      issuer: ISS,
      checkIntervalMs: 200,
      maxStalenessMs: 1500,
      ...over,
    });
    feeds.push(f);
    return f;
  };

  beforeAll(async () => {
    server = await NatsServer.start();
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  });
  afterEach(async () => {
    await Promise.all(feeds.splice(0).map((f) => f.close()));
  });
  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  it('validates options with a TypeError naming the option', () => {
    const keys = keyStore();
    expect(() => createRevocationFeed({ keys, issuer: ISS } as never)).toThrow(/servers or connection/);
    expect(() => createRevocationFeed({ servers: 'nats://x', keys: {} as KeyStore, issuer: ISS })).toThrow(
      /keys/,
    );
    expect(() => createRevocationFeed({ servers: 'nats://x', keys, issuer: '' })).toThrow(/issuer/);
    expect(() => createRevocationFeed({ servers: 'nats://x', keys, issuer: ISS, maxStalenessMs: 0 })).toThrow(
      /maxStalenessMs/,
    );
    expect(() =>
      createRevocationFeed({ servers: 'nats://x', keys, issuer: ISS, stalePolicy: 'open' as 'allow' }),
    ).toThrow(/stalePolicy/);
  });

  it('waits for the stream, replays it, applies live events, drops forged ones, follows rotations', async () => {
    const keys = keyStore();
    const feed = open({ keys });
    await new Promise((r) => setTimeout(r, 300));
    expect(feed.isReady()).toBe(false); // no stream yet: waiting, not failing

    await createStream(nc);
    await publish(nc, claims('jti', 'replayed-jti'));
    await publish(nc, claims('sub', 'alice'));
    const forgedSeq = await publish(nc, claims('jti', 'victim'), { ...KEY, privateKey: attacker.privateKey });
    await feed.ready();
    expect(feed.isStale()).toBe(false);
    expect(feed.isRevoked(tok({ sub: 'alice' }))).toBe(true);
    expect(feed.isRevoked(tok({ sub: 'alice', iat: now() + 5 }))).toBe(false);
    // Replayed jti entries are pending: fail closed until verified, confirm() gives the verified verdict.
    expect(feed.isRevoked(tok({ jti: 'replayed-jti' }))).toBe(true);
    expect(await feed.confirm(tok({ jti: 'replayed-jti' }))).toBe(true);
    expect(await feed.confirm(tok({ jti: 'victim' }))).toBe(false);
    expect(feed.isRevoked(tok({ jti: 'victim' }))).toBe(false);
    expect(feed.droppedEvents).toBe(1);
    expect(feed.stats()).toMatchObject({ pending: 0, lastSequence: forgedSeq });

    const seen: string[] = [];
    feed.onRevoked((e) => seen.push(`${e.kind}:${e.value}`));
    const epoch = feed.epoch;
    await publish(nc, claims('sid', 'session-1'));
    await publish(nc, claims('jti', 'live-forged'), { ...KEY, privateKey: attacker.privateKey });
    await nc.jetstream().publish('authmesh.revoked.jti', new TextEncoder().encode('not a jws'));
    await publish(nc, claims('kid', 'k9'));
    await until(() => feed.stats().droppedEvents === 3 && seen.length === 2, 5000, 'live events');
    expect(seen).toEqual(['sid:session-1', 'kid:k9']);
    expect(feed.epoch).toBeGreaterThan(epoch);
    expect(feed.isRevoked(tok({ sid: 'session-1' }))).toBe(true);
    expect(feed.isRevoked(tok({ kid: 'k9' }))).toBe(true);
    expect(feed.isRevoked(tok({ jti: 'live-forged' }))).toBe(false);
    expect(keys.removed).toEqual(['k9']);

    nc.publish('authmesh.keys.rotated', new TextEncoder().encode('{"kid":"k2"}'));
    await until(() => keys.refreshes > 0, 5000, 'JWKS refresh on rotation');

    // A second feed started now replays everything (an interceptor started after the revocations).
    const late = open();
    await late.ready();
    expect(late.isRevoked(tok({ sid: 'session-1' }))).toBe(true);
    expect(await late.confirm(tok({ jti: 'victim' }))).toBe(false);
    expect(await late.confirm(tok({ jti: 'live-forged' }))).toBe(false);
    // Replayed entries are verified in the background after ready, matched by a token or not.
    await until(() => late.stats().pending === 0, 5000, 'background verification');
    expect(late.stats().droppedEvents).toBe(3);
  });

  it('keeps a live event signed by a key not known yet, and applies it once the key set changes', async () => {
    const keys = keyStore({ fresh: false });
    const feed = open({ keys });
    await feed.ready();
    const next = generateKeyPairSync('ed25519');
    await publish(nc, claims('sub', 'signed-by-next'), {
      kid: 'k2',
      alg: 'EdDSA',
      privateKey: next.privateKey,
    });
    await until(() => feed.stats().parked === 1, 5000, 'parked event');
    expect(feed.isRevoked(tok({ sub: 'signed-by-next' }))).toBe(false);
    keys.add({ kid: 'k2', alg: 'EdDSA', key: next.publicKey });
    await until(
      () => feed.isRevoked(tok({ sub: 'signed-by-next' })),
      5000,
      'parked event applied after the key arrived',
    );
    expect(feed.stats()).toMatchObject({ parked: 0 });
  });

  it('survives a nats-server kill and restart: stale while down, current after, no event lost', async () => {
    // Stream path only (no core fast path), so the resumed consumer must deliver everything itself.
    const feed = open({ coreFastPath: false });
    await feed.ready();
    await publish(nc, claims('jti', 'before-outage'));
    await until(() => feed.isRevoked(tok({ jti: 'before-outage' })), 5000, 'event before outage');

    server.kill();
    const staleAfter = await until(() => feed.isStale(), 10_000, 'stale');
    console.log(`[feed] stale ${staleAfter.toFixed(0)} ms after the kill (maxStalenessMs 1500)`);
    expect(feed.isRevoked(tok({ jti: 'before-outage' }))).toBe(true); // state kept while stale

    await server.restart();
    // Published as soon as the server is back, typically before the feed has even reconnected.
    await until(() => !nc.isClosed() && nc.info !== undefined, 5000, 'publisher reconnect');
    let published = 0;
    for (let i = 0; i < 5; i++) {
      try {
        await publish(nc, claims('jti', `after-restart-${i}`));
        published++;
      } catch {
        i--;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(published).toBe(5);
    const caughtUp = await until(
      () => feed.isRevoked(tok({ jti: 'after-restart-4' })),
      20_000,
      'events after restart',
    );
    for (let i = 0; i < 5; i++) expect(feed.isRevoked(tok({ jti: `after-restart-${i}` }))).toBe(true);
    await until(() => !feed.isStale(), 5000, 'current again');
    // No gap: every sequence of the stream was consumed exactly once.
    const last = (await (await nc.jetstreamManager()).streams.info(STREAM)).state.last_seq;
    expect(feed.stats()).toMatchObject({ lastSequence: last, consumed: last });
    console.log(
      `[feed] caught up ${caughtUp.toFixed(0)} ms after the restart; stats ${JSON.stringify(feed.stats())}`,
    );
  });

  it('replays a recreated stream from its start', async () => {
    const feed = open();
    await feed.ready();
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM);
    await createStream(nc);
    await publish(nc, claims('sub', 'after-recreate'));
    await until(
      () => feed.isRevoked(tok({ sub: 'after-recreate' })),
      10_000,
      'event on the recreated stream',
    );
    // Noticed by the periodic check: the feed now follows the new stream's sequences.
    await until(
      () => feed.stats().consumerRestarts > 0 && feed.stats().lastSequence === 1,
      10_000,
      'consumer on the new stream',
    );
    await publish(nc, claims('sub', 'second-on-new-stream'));
    await until(() => feed.stats().lastSequence === 2, 5000, 'second event consumed from the new stream');
  });

  it('forgets pending entries once their events aged out of the stream (memory stays bounded)', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM).catch(() => {});
    await jsm.streams.add({ name: STREAM, subjects: ['authmesh.revoked.>'], max_age: nanos(1500) });
    for (let i = 0; i < 3; i++) await publish(nc, claims('jti', `short-lived-${i}`));
    const feed = open({ pendingVerifyPerSec: 0 }); // still pending when they age out
    await feed.ready();
    expect(feed.stats()).toMatchObject({ pending: 3, entries: 3 });
    await until(() => feed.stats().entries === 0, 10_000, 'aged-out pending entries swept');
    expect(feed.isRevoked(tok({ jti: 'short-lived-0' }))).toBe(false);
  });

  it('starts before NATS does: connects, waits for the stream, then becomes ready', async () => {
    const port = await freePort();
    const feed = open({ servers: `nats://127.0.0.1:${port}` });
    await new Promise((r) => setTimeout(r, 500));
    expect(feed.isReady()).toBe(false);
    expect(feed.isStale()).toBe(true);
    const late = await NatsServer.start({ port });
    try {
      const lnc = await connect({ servers: late.url });
      await createStream(lnc);
      await publish(lnc, claims('sub', 'early-bird'));
      await feed.ready();
      expect(feed.isRevoked(tok({ sub: 'early-bird' }))).toBe(true);
      expect(feed.isStale()).toBe(false);
      await feed.close();
      await lnc.close();
    } finally {
      await late.stop();
    }
  });

  it('replays 100k revocations: time to ready and bytes per entry', async () => {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(STREAM).catch(() => {});
    await createStream(nc);
    const n = 100_000;
    // Replay never checks signatures, so to keep the test short only every 1000th event is really signed
    // (node:crypto, the same bytes signRevocationEvent makes); the others carry a same-sized forged one.
    const header = Buffer.from(
      JSON.stringify({ alg: 'EdDSA', kid: 'k1', typ: 'authmesh-revocation+jwt' }),
    ).toString('base64url');
    const forgedSig = Buffer.alloc(64, 7).toString('base64url');
    const at = now();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const payload = Buffer.from(
        JSON.stringify({ ...claims('jti', `jti-${i}-${'x'.repeat(12)}`, { at }), iss: ISS }),
      ).toString('base64url');
      const input = `${header}.${payload}`;
      const sig =
        i % 1000 === 0
          ? cryptoSign(null, Buffer.from(input), signer.privateKey).toString('base64url')
          : forgedSig;
      nc.publish('authmesh.revoked.jti', Buffer.from(`${input}.${sig}`));
      if (i % 5000 === 4999) await nc.flush();
    }
    await nc.flush();
    for (let i = 0; (await jsm.streams.info(STREAM)).state.messages < n; i++) {
      if (i > 200) throw new Error('stream did not fill');
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`[feed] published ${n} signed events in ${(performance.now() - t0).toFixed(0)} ms`);

    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    // No background verification here: the counts below are those of the replay alone.
    const feed = open({ maxStalenessMs: 30_000, checkIntervalMs: 1000, pendingVerifyPerSec: 0 });
    await feed.ready();
    gc();
    const perEntry = (process.memoryUsage().heapUsed - heap0) / n;
    const { replayMs, entries, pending } = feed.stats();
    console.log(
      `[feed] replay of ${n} events: ${replayMs!.toFixed(0)} ms to ready, ${perEntry.toFixed(1)} B/entry (heap delta incl. the feed), ${pending} pending`,
    );
    expect(entries).toBe(n);
    // Speed is the replay bench's business (bench/replay, target ≤ 1 s on a quiet machine); on a loaded
    // 2-core box this replay took 4-12 s, so only a pathological slowdown fails here.
    expect(replayMs!).toBeLessThan(30_000);
    const c0 = performance.now();
    expect(await feed.confirm(tok({ jti: `jti-77000-${'x'.repeat(12)}` }))).toBe(true);
    console.log(
      `[feed] first confirm of a pending entry (fetch + verify): ${(performance.now() - c0).toFixed(2)} ms`,
    );
    // A forged replayed entry fails closed in isRevoked only until confirm() checked it; then it is gone.
    expect(feed.isRevoked(tok({ jti: `jti-77-${'x'.repeat(12)}` }))).toBe(true);
    expect(await feed.confirm(tok({ jti: `jti-77-${'x'.repeat(12)}` }))).toBe(false);
    expect(feed.isRevoked(tok({ jti: `jti-77-${'x'.repeat(12)}` }))).toBe(false);
    expect(feed.stats()).toMatchObject({ pending: n - 2, droppedEvents: 1, entries: n - 1 });
  }, 60_000);

  it('a stream check answered before its latest deliveries is no recreated stream: a burst is applied once', async () => {
    await createStream(nc).catch(() => {});
    // Checks every 50 ms: a stream info answer generated before the deliveries that overtook it on the
    // way must not read as "sequences went back" (found under a 20k-event bulk revocation: the feed
    // started over from sequence 1 again and again, fell behind for good, and went stale).
    const feed = open({ checkIntervalMs: 50 });
    await feed.ready();
    const before = feed.stats();
    const jwss = await Promise.all(
      Array.from({ length: 3000 }, (_, i) => signRevocationEvent(claims('jti', `burst-${i}`), KEY, ISS)),
    );
    const js = nc.jetstream();
    let next = 0;
    let last = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < jwss.length) {
          const ack = await js.publish('authmesh.revoked.jti', new TextEncoder().encode(jwss[next++]!));
          last = Math.max(last, ack.seq);
        }
      }),
    );
    await until(() => feed.stats().appliedSequence >= last, 20_000, 'the burst applied');
    const after = feed.stats();
    expect(after.consumerRestarts).toBe(before.consumerRestarts);
    expect(after.consumed - before.consumed).toBe(3000);
    expect(feed.isStale()).toBe(false);
  }, 30_000);
  it("a genuine event republished on another kind's subject cannot get the genuine one dropped", async () => {
    await createStream(nc).catch(() => {});
    const feed = open();
    await feed.ready();
    // Live: the copy on the wrong subject arrives first and is dropped; the genuine one still applies.
    const jws = await signRevocationEvent(claims('jti', 'moved-jti'), KEY, ISS);
    const bytes = new TextEncoder().encode(jws);
    await nc.jetstream().publish('authmesh.revoked.sid', bytes);
    const seq = (await nc.jetstream().publish('authmesh.revoked.jti', bytes)).seq;
    await until(() => feed.stats().appliedSequence >= seq, 5000, 'both copies settled');
    expect(feed.isRevoked(tok({ jti: 'moved-jti' }))).toBe(true);
    // Replayed: a new feed holds the genuine entry pending; the wrong-subject copy must not settle it.
    const late = open({ pendingVerifyPerSec: 0 });
    await late.ready();
    late.onRevoked(() => {});
    nc.publish('authmesh.revoked.sid', bytes); // core copy on the wrong subject, verified (dropped) live
    await nc.flush();
    await until(() => late.stats().droppedEvents >= 1, 5000, 'the wrong-subject copy dropped');
    expect(await late.confirm(tok({ jti: 'moved-jti' }))).toBe(true);
    expect(late.isRevoked(tok({ jti: 'moved-jti' }))).toBe(true);
  });
  it('batch events (v 2): replayed and live, every value revoked; a forged batch revokes none', async () => {
    await createStream(nc).catch(() => {});
    // Earlier tests' thousands of events would make "nothing pending" a matter of their replay.
    await (await nc.jetstreamManager()).streams.purge(STREAM);
    const batch = (kind: RevocationBatchClaims['kind'], values: string[]): RevocationBatchClaims => ({
      v: 2,
      kind,
      values,
      at: now(),
      exp: now() + 600,
      reason: 'test',
    });
    const publishBatch = async (b: RevocationBatchClaims, key = KEY) =>
      (
        await nc
          .jetstream()
          .publish(
            `authmesh.revoked.${b.kind}`,
            new TextEncoder().encode(await signRevocationEvent(b, key, ISS)),
          )
      ).seq;
    const jtis = Array.from({ length: 300 }, (_, i) => `batch-jti-${i}`);
    await publishBatch(batch('jti', jtis));
    await publishBatch(batch('sub', ['batch-carol', 'batch-dave']));
    const forged = Array.from({ length: 50 }, (_, i) => `batch-victim-${i}`);
    await publishBatch(batch('jti', forged), { ...KEY, privateKey: attacker.privateKey });

    // Replayed: the jti values are pending under one sequence, one check verifies them all.
    const feed = open();
    await feed.ready();
    expect(feed.isRevoked(tok({ jti: 'batch-jti-0' }))).toBe(true);
    expect(await feed.confirm(tok({ jti: 'batch-jti-299' }))).toBe(true);
    expect(feed.isRevoked(tok({ sub: 'batch-dave' }))).toBe(true);
    expect(await feed.confirm(tok({ jti: 'batch-victim-7' }))).toBe(false);
    await until(() => feed.stats().pending === 0, 5000, 'background verification');
    for (const jti of jtis) expect(feed.isRevoked(tok({ jti }))).toBe(true);
    for (const jti of forged) expect(feed.isRevoked(tok({ jti }))).toBe(false);

    // Live: applied as one revocation per value, listeners told of each.
    const seen: string[] = [];
    feed.onRevoked((e) => seen.push(`${e.kind}:${e.value}`));
    await publishBatch(batch('sid', ['batch-s1', 'batch-s2', 'batch-s3']));
    await publishBatch(batch('sid', ['batch-s4']), { ...KEY, privateKey: attacker.privateKey });
    await until(() => seen.length === 3, 5000, 'live batch');
    expect(seen).toEqual(['sid:batch-s1', 'sid:batch-s2', 'sid:batch-s3']);
    await until(() => feed.stats().droppedEvents >= 2, 5000, 'forged live batch dropped');
    expect(feed.isRevoked(tok({ sid: 'batch-s2' }))).toBe(true);
    expect(feed.isRevoked(tok({ sid: 'batch-s4' }))).toBe(false);
  });
});
