// The revocation-rate bench's baseline: a plain nats.js client publishing to AUTHMESH_REVOCATIONS with
// JetStream acks, `concurrency` in flight, payloads the size of a signed event. What the stream and
// nats-server allow on this machine, with no gRPC, signing or KV in the way.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect } from 'nats';
import { serveCommands } from '../lib/child.mjs';

let nc;
let js;

serveCommands(
  {
    async init({ natsUrl }) {
      nc = await connect({ servers: natsUrl });
      js = nc.jetstream();
      return {};
    },
    async run({ count, concurrency, timeMs }) {
      // Same shape and size as a signed event (~330 bytes); the stream's consumers ignore a bad signature.
      const body = Buffer.from(
        `eyJ.${randomBytes(180).toString('base64url')}.${randomBytes(64).toString('base64url')}`,
      );
      const lat = new Float64Array(count);
      const errors = {};
      let next = 0;
      let done = 0;
      const t0 = performance.now();
      const end = t0 + timeMs;
      const worker = async () => {
        while (next < count && performance.now() < end) {
          next++;
          const s = performance.now();
          try {
            await js.publish('authmesh.revoked.jti', body, {
              msgID: randomUUID(),
              expect: { streamName: 'AUTHMESH_REVOCATIONS' },
            });
            lat[done++] = performance.now() - s;
          } catch (err) {
            errors[err.code] = (errors[err.code] ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const elapsedMs = performance.now() - t0;
      const ok = Array.from(lat.subarray(0, done)).sort((a, b) => a - b);
      const q = (p) => (ok.length ? ok[Math.min(ok.length - 1, Math.floor(p * ok.length))] : NaN);
      return {
        sent: next,
        ok: done,
        errors,
        elapsedMs,
        perSec: (done / elapsedMs) * 1000,
        p50: q(0.5),
        p99: q(0.99),
      };
    },
  },
  async () => {
    await nc?.drain();
  },
);
