import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { connect } from 'nats';
import { authmesh } from '../lib/authmesh.mjs';
import { ensureRevocationStream, revocationStream } from '../lib/stream.mjs';

const worker = new URL('./sign-worker.mjs', import.meta.url);

/**
 * Publishes `count` signed `jti` revocation events to the revocation stream (purged first), as the
 * auth service would: the first through the interceptor package's `signRevocationEvent` (the
 * reference format), the bulk through an equivalent node:crypto signer (same JWS). Worker threads,
 * one per core, sign and publish their share (core publishes with a flush every 5,000: awaiting a
 * JetStream ack per event made 1M take minutes); the stream's count is checked at the end.
 * `batch` > 1: `count` values in batch events (v 2) of `batch` values each, as `revoke --batch` sends.
 */
export async function publishRevocations({ natsUrl, privateJwk, issuer, count, batch = 1 }) {
  await ensureRevocationStream(natsUrl);
  const now = Math.floor(Date.now() / 1000);
  let first;
  if (batch === 1)
    try {
      const signRevocationEvent = await authmesh('signRevocationEvent');
      const { createPrivateKey } = await import('node:crypto');
      const privateKey = createPrivateKey({ key: privateJwk, format: 'jwk' });
      first = await signRevocationEvent(
        {
          v: 1,
          kind: 'jti',
          value: randomBytes(16).toString('base64url'),
          at: now,
          exp: now + 300,
          reason: 'bench',
        },
        { kid: privateJwk.kid, alg: 'EdDSA', privateKey },
        issuer,
      );
    } catch {
      // not built: every event through the equivalent signer
    }
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    await jsm.streams.purge(revocationStream);
    const t0 = performance.now();
    const n = batch > 1 ? 1 : Math.max(1, Math.min(availableParallelism(), 8, Math.ceil(count / 20_000)));
    const messages = Math.ceil(count / batch);
    const parts = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
        return new Promise((resolve, reject) => {
          const w = new Worker(worker, {
            workerData: {
              natsUrl,
              privateJwk,
              issuer,
              count: share,
              now,
              first: i === 0 ? first : undefined,
              batch,
            },
          });
          w.once('message', resolve);
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && reject(new Error(`sign worker exited ${code}`)));
        });
      }),
    );
    let info = await jsm.streams.info(revocationStream);
    for (let i = 0; i < 100 && info.state.messages < messages; i++) {
      await new Promise((r) => setTimeout(r, 100));
      info = await jsm.streams.info(revocationStream);
    }
    if (info.state.messages !== messages)
      throw new Error(`the stream holds ${info.state.messages} events, expected ${messages}`);
    return {
      count,
      signMs: Math.max(...parts.map((p) => p.signMs)),
      publishMs: Math.max(...parts.map((p) => p.publishMs)),
      totalMs: performance.now() - t0,
      messages: info.state.messages,
      bytes: info.state.bytes,
    };
  } finally {
    await nc.close();
  }
}
