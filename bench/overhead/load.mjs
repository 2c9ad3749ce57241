// The overhead bench's load generator (its own process): grpc-js unary calls at a fixed concurrency
// for a fixed time. Messages are pre-serialized and responses not decoded, to spend as little client
// CPU per call as grpc-js allows. Tokens: none, one warm token, or a pre-signed pool (one per call).
import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { serveCommands } from '../lib/child.mjs';
import { tokenSigner, transportControlHeader, transportControlValue } from '../lib/keys.mjs';
import { pingMessage } from '../lib/bench-proto.mjs';

const identity = (b) => b;

const clients = new Map();
let signer;
let warmToken;
let pool = [];

function client(target) {
  let c = clients.get(target);
  if (!c) {
    c = new grpc.Client(target, grpc.credentials.createInsecure());
    clients.set(target, c);
  }
  return c;
}

/**
 * The transport control: headers as long as `authorization: Bearer <token>`, 64 distinct values used in
 * turn. The client's HPACK encoder never indexes `authorization` but would index a repeated header
 * and then send 2 bytes; with more distinct values than its 4 KiB table holds, each goes literal.
 */
let pads = [];

function metadataFor(mode, poolState) {
  const md = new grpc.Metadata();
  if (mode === 'warm') md.set('authorization', `Bearer ${warmToken}`);
  else if (mode === 'pad') md.set(transportControlHeader, pads[poolState.i++ % pads.length]);
  else if (mode === 'cold') {
    if (poolState.i >= pool.length) {
      poolState.i = 0;
      poolState.wrapped++;
    }
    md.set('authorization', `Bearer ${pool[poolState.i++]}`);
  }
  return md;
}

async function run({ target, path, concurrency, durationMs, mode }) {
  const c = client(target);
  await new Promise((resolve, reject) =>
    c.waitForReady(Date.now() + 5000, (e) => (e ? reject(e) : resolve())),
  );
  const lat = new Float64Array(2_000_000);
  let n = 0;
  let ok = 0;
  const errors = {};
  const poolState = { i: 0, wrapped: 0 };
  const start = performance.now();
  const end = start + durationMs;
  const worker = () =>
    new Promise((resolve) => {
      const once = () => {
        const t0 = performance.now();
        if (t0 >= end) return resolve();
        c.makeUnaryRequest(path, identity, identity, pingMessage, metadataFor(mode, poolState), {}, (err) => {
          const t1 = performance.now();
          if (n < lat.length) lat[n++] = t1 - t0;
          if (err) errors[err.code] = (errors[err.code] ?? 0) + 1;
          else ok++;
          once();
        });
      };
      once();
    });
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  const sorted = lat.subarray(0, n).sort();
  const q = (p) => (n ? sorted[Math.min(n - 1, Math.ceil(p * n) - 1)] : NaN);
  return {
    calls: n,
    ok,
    errors,
    elapsedMs,
    rate: (ok / elapsedMs) * 1000,
    p50: q(0.5),
    p99: q(0.99),
    wrapped: poolState.wrapped,
  };
}

serveCommands(
  {
    init({ privateJwk }) {
      signer = tokenSigner(privateJwk);
      warmToken = signer.sign();
      pads = Array.from({ length: 64 }, () => transportControlValue(warmToken));
      return { warmToken };
    },
    /** Signs `count` fresh tokens (distinct jti) for the next cold run; returns the signing rate. */
    presign({ count }) {
      const t0 = performance.now();
      pool = Array.from({ length: count }, () => signer.sign());
      return { count, ms: performance.now() - t0 };
    },
    run,
  },
  async () => {
    for (const c of clients.values()) c.close();
  },
);
