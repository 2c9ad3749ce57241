// The revocation-rate bench's baseline: a plain nats.js client publishing with JetStream acks,
// `concurrency` in flight, payloads the size of a signed event, to a stream of its own configured as
// AUTHMESH_REVOCATIONS is (file storage, limits, the same duplicate window). What the stream and
// nats-server allow on this machine, with no gRPC, signing or KV in the way. Not into
// AUTHMESH_REVOCATIONS itself: unsigned events there are forgeries to every feed, which verify and drop
// them within their budget for bad events and then hold the stream back (by design), stalling the
// auth service's guard for the rounds after.
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect, DiscardPolicy, nanos, RetentionPolicy, StorageType } from 'nats';
import { serveCommands } from '../lib/child.mjs';

const STREAM = 'BENCH_REVOKE_FLOOR';
let nc;
let js;

serveCommands(
  {
    async init({ natsUrl }) {
      nc = await connect({ servers: natsUrl });
      js = nc.jetstream();
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({
        name: STREAM,
        subjects: ['bench.floor.>'],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: 1,
        max_age: nanos(960_000),
        duplicate_window: nanos(120_000),
      });
      return {};
    },
    async run({ count, concurrency, timeMs }) {
      // Same shape and size as a signed event (~330 bytes).
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
            await js.publish('bench.floor.jti', body, {
              msgID: randomUUID(),
              expect: { streamName: STREAM },
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
