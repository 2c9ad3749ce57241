// Verification rates on one core, in a process of their own: node:crypto Ed25519 verify (the floor
// the cold path is judged against), jose jwtVerify, and authmesh's ServerAuth.verify on distinct
// tokens (cold: full verification) and on one token (warm: cache hit).
import { createPublicKey, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { importJWK, jwtVerify } from 'jose';
import { loadProto } from '@authmesh/proto';
import { serveCommands } from '../lib/child.mjs';
import { benchServerAuth } from '../lib/authmesh.mjs';
import { benchProtoFile } from '../lib/bench-proto.mjs';
import { benchAudience, benchIssuer, tokenSigner } from '../lib/keys.mjs';

let signer;
let keyObject;
let joseKey;
let auth;
let authError;

/**
 * Runs `fn(i)` for up to `ms` or `max` iterations, `inFlight` at a time when async; returns ops/s
 * (wall) and CPU µs per op (process.cpuUsage: main thread and libuv pool, where WebCrypto runs).
 */
async function rate(fn, { ms, max, isAsync, inFlight = 1 }) {
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
      return { authmesh: !!auth, authError };
    },
    /** One round of every rate; `ms` per measurement. */
    async round({ ms }) {
      const n = Math.ceil((40_000 * ms) / 1000);
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
