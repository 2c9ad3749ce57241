// A fresh process (run with --expose-gc) that measures one replay of the revocation stream:
// `feed` → a new authmesh revocation feed until ready(), heap delta per entry;
// `raw` → the baseline: a bare JetStream ordered consumer that parses each event and Map.sets it.
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { serveCommands } from '../lib/child.mjs';
import { authmesh, benchRevocationFeed } from '../lib/authmesh.mjs';
import { revocationStream } from '../lib/stream.mjs';

const heap = () => {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};

let keep;

/** CPU time of this process (all threads) since `c0`, ms: beside wall time, what a loaded machine hides. */
const cpuSince = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

serveCommands({
  async feed({ natsUrl, publicJwk, issuer, expected, timeoutMs = 60_000 }) {
    // Load the modules first: their code is not part of the per-entry cost.
    await authmesh('createKeyStore');
    await authmesh('createRevocationFeed');
    const h0 = heap();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { keys, feed } = await benchRevocationFeed({ publicJwk, issuer, natsUrl });
    await Promise.race([
      feed.ready(),
      new Promise((_, rej) =>
        setTimeout(() => rej(new Error(`feed not ready in ${timeoutMs / 1000} s`)), timeoutMs),
      ),
    ]);
    const readyMs = performance.now() - t0;
    const cpuMs = cpuSince(c0);
    const stats = feed.stats?.() ?? {};
    const h1 = heap();
    keep = feed;
    // After ready, replayed entries are checked in the background (failing closed meanwhile): how
    // long until none is left unverified (capped at 30 s).
    let verifiedMs;
    for (const v0 = performance.now(); performance.now() - v0 < 30_000;) {
      if ((feed.stats?.().pending ?? 0) === 0) {
        verifiedMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const result = {
      verifiedMs,
      readyMs,
      cpuMs,
      replayMs: stats.replayMs,
      entries: stats.entries ?? expected,
      pending: stats.pending,
      dropped: stats.droppedEvents,
      heapBytes: h1 - h0,
    };
    await feed.close();
    keys.close();
    keep = undefined;
    return result;
  },
  async raw({ natsUrl, expected, timeoutMs = 60_000 }) {
    const h0 = heap();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const nc = await connect({ servers: natsUrl });
    const js = nc.jetstream();
    const consumer = await js.consumers.get(revocationStream);
    const map = new Map();
    const dec = new TextDecoder();
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`raw replay not done in ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      consumer
        .consume({
          max_messages: 2000,
          callback: (m) => {
            const jws = dec.decode(m.data);
            const a = jws.indexOf('.');
            const claims = JSON.parse(
              Buffer.from(jws.slice(a + 1, jws.indexOf('.', a + 1)), 'base64url').toString(),
            );
            if (claims.v === 2) for (const v of claims.values) map.set(v, claims.exp);
            else map.set(claims.value, claims.exp);
            if (m.info.pending === 0 && map.size >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    const readyMs = performance.now() - t0;
    const cpuMs = cpuSince(c0);
    const h1 = heap();
    keep = map;
    const result = { readyMs, cpuMs, entries: map.size, heapBytes: h1 - h0 };
    keep = undefined;
    await nc.close();
    return result;
  },
});
