// Verification rates on one core, in a process of their own: node:crypto Ed25519 verify (the floor
// the cold path is judged against), jose jwtVerify, and authmesh's ServerAuth.verify on distinct
// tokens (cold: full verification) and on one token (warm: cache hit); and the interceptor's warm path
// itself, in main-thread CPU per call over parsing the same call's metadata.
import * as grpc from '@grpc/grpc-js';
import { createPublicKey, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { importJWK, jwtVerify } from 'jose';
import { loadProto } from '@authmesh/proto';
import { serveCommands } from '../lib/child.mjs';
import { mainThreadCpuUs } from '../lib/proc-cpu.mjs';
import { benchServerAuth, warmPathParts } from '../lib/authmesh.mjs';
import { benchProtoFile } from '../lib/bench-proto.mjs';
import { benchAudience, benchIssuer, tokenSigner } from '../lib/keys.mjs';

let signer;
let keyObject;
let joseKey;
let auth;
let authError;
let warmPath;

/**
 * The interceptor's warm work on one call, as it runs it: `authorization` parsed from the call's
 * Metadata, the verified-token cache hit (a fresh token string per call, as grpc-js hands each call
 * one), the principal bound to the Metadata and read back by the handler. Its control builds the same
 * Metadata from the same fresh header and stops there.
 */
async function setUpWarmPath(token) {
  const parts = await warmPathParts();
  const key = {};
  const principal = await auth.verify(token);
  const stubKeys = { epoch: 0, get: () => key };
  const noRevocations = { epoch: 0, isRevoked: () => false };
  const cache = parts.createAuthenticator(async () => ({ principal, key }), stubKeys, noRevocations, 10_000);
  await cache.authenticate(token);
  const header = Buffer.from(`Bearer ${token}`);
  const metadataOfCall = () => grpc.Metadata.fromHttp2Headers({ authorization: header.toString('latin1') });
  let seen = 0;
  const control = (n) => {
    for (let i = 0; i < n; i++) if (metadataOfCall()) seen++;
  };
  const warm = (n) => {
    for (let i = 0; i < n; i++) {
      const md = metadataOfCall();
      const p = cache.cached(parts.bearerToken(md, 8192));
      parts.bindPrincipal(md, p);
      if (parts.findPrincipal({ metadata: md }) === p) seen++;
    }
  };
  return { control, warm, seen: () => seen };
}

/**
 * Runs `fn(i)` for up to `ms` or `max` iterations, `inFlight` at a time when async; returns ops/s
 * (wall) and CPU µs per op (process.cpuUsage: main thread and libuv pool, where WebCrypto runs).
 */
async function rate(fn, { ms, max, isAsync, inFlight = 1 }) {
  // Each measurement starts on a clean heap and ends by collecting all it left (inside its own time):
  // every variant pays for its own garbage, none for another's or for the token pools.
  globalThis.gc?.();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let i = 0;
  const more = () => i < max && (i & 63 || performance.now() - t0 < ms);
  if (!isAsync) while (more()) fn(i++);
  else
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (more()) await fn(i++);
      }),
    );
  globalThis.gc?.();
  const c = process.cpuUsage(c0);
  return { rate: (i / (performance.now() - t0)) * 1000, cpuUs: (c.user + c.system) / i };
}

serveCommands(
  {
    async init({ privateJwk, publicJwk }) {
      signer = tokenSigner(privateJwk);
      keyObject = createPublicKey({ key: publicJwk, format: 'jwk' });
      joseKey = await importJWK(publicJwk, 'EdDSA');
      try {
        const revocations = { allowInsecureNoRevocations: true };
        const packageDefinition = loadProto(benchProtoFile);
        auth = await benchServerAuth({
          publicJwk,
          issuer: benchIssuer,
          audience: benchAudience,
          revocations,
          packageDefinition,
        });
      } catch (err) {
        authError = String(err.message ?? err).split('\n')[0];
      }
      if (auth) warmPath = await setUpWarmPath(signer.sign());
      return { authmesh: !!auth, authError };
    },
    /**
     * The warm path's main-thread CPU µs per call over its control: `passes` pairs, the order
     * alternating, `n` calls per window. Returns the per-pair differences.
     */
    warmPath({ passes, n }) {
      if (!warmPath) return undefined;
      const time = (fn) => {
        const t0 = mainThreadCpuUs(process.pid);
        fn(n);
        return (mainThreadCpuUs(process.pid) - t0) / n;
      };
      for (let i = 0; i < 3; i++) (time(warmPath.warm), time(warmPath.control)); // JIT
      const deltas = [];
      for (let p = 0; p < passes; p++) {
        if (p % 2) deltas.push(-time(warmPath.control) + time(warmPath.warm));
        else deltas.push(time(warmPath.warm) - time(warmPath.control));
      }
      return { deltas, checked: warmPath.seen() > 0 };
    },
    /**
     * The cold path against node:crypto in `pairs` paired windows of `ms` each, the order alternating
     * (this machine's neighbours move a single window by ±20 %): per pair, node:crypto's CPU per verify
     * over authmesh's (ServerAuth.verify on fresh tokens, one at a time), each window paying for its
     * own garbage (a GC at its end). Returns the per-pair ratios.
     */
    async coldPairs({ pairs, ms }) {
      if (!auth) return undefined;
      const n = Math.ceil((16_000 * ms) / 1000);
      const ratios = [];
      for (let p = 0; p < pairs; p++) {
        const tokens = Array.from({ length: n }, () => signer.sign());
        const fresh = Array.from({ length: n }, () => signer.sign());
        const parts = tokens.map((t) => {
          const dot = t.lastIndexOf('.');
          return [Buffer.from(t.slice(0, dot)), Buffer.from(t.slice(dot + 1), 'base64url')];
        });
        const crypto = () => rate((i) => verify(null, parts[i][0], keyObject, parts[i][1]), { ms, max: n });
        const cold = () => rate((i) => auth.verify(fresh[i]), { ms, max: n, isAsync: true });
        let c;
        let a;
        if (p % 2) ((a = await cold()), (c = await crypto()));
        else ((c = await crypto()), (a = await cold()));
        ratios.push(c.cpuUs / a.cpuUs);
      }
      return ratios;
    },
    /** One round of every rate; `ms` per measurement. */
    async round({ ms }) {
      // Pools sized for ~16k verifications a second (Ed25519 verify runs at ~12k/s here): a larger pool
      // only makes every GC of the measured code trace more (a 120k-token pool is ~50 MB of heap).
      const n = Math.ceil((16_000 * ms) / 1000);
      const tokens = Array.from({ length: n }, () => signer.sign());
      const parts = tokens.map((t) => {
        const dot = t.lastIndexOf('.');
        return [Buffer.from(t.slice(0, dot)), Buffer.from(t.slice(dot + 1), 'base64url')];
      });
      const opts = { issuer: benchIssuer, audience: benchAudience, algorithms: ['EdDSA'], typ: 'at+jwt' };
      const out = {};
      out.cryptoVerify = await rate((i) => verify(null, parts[i][0], keyObject, parts[i][1]), { ms, max: n });
      out.joseVerify = await rate((i) => jwtVerify(tokens[i], joseKey, opts), { ms, max: n, isAsync: true });
      if (auth) {
        const fresh = Array.from({ length: 2 * n }, () => signer.sign());
        out.authmeshCold = await rate((i) => auth.verify(fresh[i]), { ms, max: n, isAsync: true });
        out.authmeshCold64 = await rate((i) => auth.verify(fresh[n + i]), {
          ms,
          max: n,
          isAsync: true,
          inFlight: 64,
        });
        const warm = fresh[0];
        out.authmeshWarm = await rate(() => auth.verify(warm), { ms, max: 5_000_000, isAsync: true });
      }
      return out;
    },
  },
  async () => auth?.close(),
);
