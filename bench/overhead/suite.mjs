// Suite 1: per-call overhead. A server process (overhead/server.mjs) with one grpc-js server per
// variant, a load process (overhead/load.mjs), rounds interleaved across variants so drift hits
// every variant alike; then h2load against the same servers; then single-core verify rates.
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.mjs';
import { newSigningKey } from '../lib/keys.mjs';
import { ensureRevocationStream } from '../lib/stream.mjs';
import { findH2load, h2loadHint, h2loadRun } from '../lib/h2load.mjs';
import { median, ratio } from '../lib/stats.mjs';
import { pingMessage } from '../lib/bench-proto.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const AUTHED = '/bench.v1.Bench/Authed';
const PUBLIC = '/bench.v1.Bench/Public';

/**
 * The variants: which server, which method, which token. The baseline sends the same warm token
 * (so the only difference is the interceptor), but no interceptor reads it.
 */
const variants = [
  { name: 'none', server: 'none', path: AUTHED, mode: 'warm', label: 'no interceptor (baseline)' },
  { name: 'public', server: 'authmesh', path: PUBLIC, mode: 'none', label: 'authmesh, public method' },
  // A control (h2load only): the public call with a header as large as `authorization: Bearer <token>`,
  // so that warm vs this isolates the token check from the cost of carrying the header at all.
  {
    name: 'publicPadded',
    server: 'authmesh',
    path: PUBLIC,
    mode: 'pad',
    h2loadOnly: true,
    label: 'authmesh, public method + token-sized header',
  },
  { name: 'warm', server: 'authmesh', path: AUTHED, mode: 'warm', label: 'authmesh, warm token (cache hit)' },
  { name: 'cold', server: 'authmesh', path: AUTHED, mode: 'cold', label: 'authmesh, new token every call' },
  {
    name: 'warmFeed',
    server: 'authmeshFeed',
    path: AUTHED,
    mode: 'warm',
    label: 'authmesh + NATS feed, warm token',
  },
  { name: 'jose', server: 'jose', path: AUTHED, mode: 'warm', label: 'peer: jose.jwtVerify every call' },
  { name: 'fastjwt', server: 'fastjwt', path: AUTHED, mode: 'warm', label: 'peer: fast-jwt with its cache' },
];

/** Runs suite 1; `nats` (optional) is a NatsServer for the feed variant. */
export async function runOverhead({ rounds, durationMs, quick, nats, log }) {
  const concurrencies = quick ? [64] : [1, 16, 64];
  const key = newSigningKey();
  const server = new Child(here('./server.mjs'));
  const load = new Child(here('./load.mjs'));
  const verifier = new Child(here('./verify-rate.mjs'));
  const result = { concurrencies, variants: {}, h2load: {}, verify: {}, notes: [] };
  try {
    if (nats) await ensureRevocationStream(nats.url);
    const { addrs, unavailable } = await server.call('start', {
      publicJwk: key.publicJwk,
      natsUrl: nats?.url,
    });
    for (const [k, v] of Object.entries(unavailable)) result.notes.push(`${k} variant skipped: ${v}`);
    const { warmToken } = await load.call('init', { privateJwk: key.privateJwk });
    const active = variants.filter((v) => addrs[v.server] && !v.h2loadOnly);
    const h2variants = variants.filter((v) => addrs[v.server] && v.mode !== 'cold');
    const samples = Object.fromEntries(
      active.map((v) => [v.name, Object.fromEntries(concurrencies.map((c) => [c, []]))]),
    );
    const lastRate = {};

    const measure = async (v, c, ms) => {
      if (v.mode === 'cold') {
        // Every call must carry a token the server has never seen: size the pool well above the
        // best rate seen so far (a reused token would be a cache hit; reuse is counted and noted).
        const best = Math.max(8000, ...Object.values(lastRate));
        const need = Math.ceil((best * ms * 2) / 1000) + 2000;
        await load.call('presign', { count: need });
      }
      const s0 = await server.call('snapshot');
      const r = await load.call('run', {
        target: addrs[v.server],
        path: v.path,
        concurrency: c,
        durationMs: ms,
        mode: v.mode,
      });
      const s1 = await server.call('snapshot');
      if (v.mode === 'cold') lastRate[c] = Math.max(lastRate[c] ?? 0, r.rate);
      const served = s1.calls - s0.calls;
      return { ...r, cpuPerCall: served ? (s1.cpuUs - s0.cpuUs) / served : NaN, served };
    };

    log(`overhead: warm-up of ${active.length} variants`);
    for (const v of active) await measure(v, 16, Math.min(500, durationMs));
    for (let round = 0; round < rounds; round++) {
      for (const c of concurrencies) {
        for (const v of active) {
          const r = await measure(v, c, durationMs);
          samples[v.name][c].push(r);
          const errs = Object.keys(r.errors).length ? ` errors ${JSON.stringify(r.errors)}` : '';
          log(
            `  round ${round + 1} c=${c} ${v.name}: ${Math.round(r.rate)}/s p99 ${r.p99.toFixed(2)} ms, ${r.cpuPerCall.toFixed(0)} µs CPU/call${errs}`,
          );
          if (r.wrapped) result.notes.push(`cold c=${c} round ${round + 1}: token pool reused ${r.wrapped}×`);
        }
      }
    }
    for (const v of active) {
      result.variants[v.name] = { label: v.label, byConcurrency: {} };
      for (const c of concurrencies) {
        const rs = samples[v.name][c];
        result.variants[v.name].byConcurrency[c] = {
          rate: median(rs.map((r) => r.rate)),
          p50: median(rs.map((r) => r.p50)),
          p99: median(rs.map((r) => r.p99)),
          cpuPerCall: median(rs.map((r) => r.cpuPerCall)),
          errors: rs.reduce((n, r) => n + Object.values(r.errors).reduce((a, b) => a + b, 0), 0),
          perRound: rs.map((r) => ({ rate: r.rate, p50: r.p50, p99: r.p99, cpuPerCall: r.cpuPerCall })),
        };
      }
    }
    for (const c of concurrencies) {
      const base = result.variants.none?.byConcurrency[c];
      const pub = result.variants.public?.byConcurrency[c];
      for (const v of active) {
        const f = result.variants[v.name].byConcurrency[c];
        f.vsNone = ratio(f.rate, base?.rate);
        f.vsPublic = ratio(f.rate, pub?.rate);
        f.cpuOverNone = f.cpuPerCall - (base?.cpuPerCall ?? NaN);
      }
    }

    // h2load: the server's own ceiling (the grpc-js client is the bottleneck above).
    const bin = findH2load();
    if (!bin) {
      result.notes.push(h2loadHint);
      log(h2loadHint);
    } else {
      const streams = 64;
      const h2 = h2variants;
      const pad = { 'x-bench-pad': 'x'.repeat(`Bearer ${warmToken}`.length) };
      const hs = Object.fromEntries(h2.map((v) => [v.name, []]));
      for (let round = 0; round < rounds; round++) {
        for (const v of h2) {
          const s0 = await server.call('snapshot');
          const r = await h2loadRun({
            bin,
            target: addrs[v.server],
            path: v.path,
            message: pingMessage,
            token: v.mode === 'warm' ? warmToken : undefined,
            headers: v.mode === 'pad' ? pad : {},
            streams,
            durationS: durationMs / 1000,
            warmupS: quick ? 0.25 : 0.5,
          });
          const s1 = await server.call('snapshot');
          const served = s1.calls - s0.calls;
          // Every request must have reached the handler: h2load cannot see gRPC errors itself.
          r.served = served;
          r.cpuPerCall = served ? (s1.cpuUs - s0.cpuUs) / served : NaN;
          hs[v.name].push(r);
          log(
            `  h2load round ${round + 1} ${v.name}: ${Math.round(r.rate)}/s p99 ${r.p99.toFixed(2)} ms, ${r.cpuPerCall.toFixed(0)} µs CPU/call, served ${served}/${r.done}`,
          );
        }
      }
      for (const v of h2) {
        const rs = hs[v.name];
        result.h2load[v.name] = {
          label: v.label,
          streams,
          rate: median(rs.map((r) => r.rate)),
          p50: median(rs.map((r) => r.p50)),
          p99: median(rs.map((r) => r.p99)),
          cpuPerCall: median(rs.map((r) => r.cpuPerCall)),
          rejected: rs.reduce((n, r) => n + Math.max(0, r.done - r.served), 0),
          perRound: rs.map((r) => ({ rate: r.rate, p50: r.p50, p99: r.p99, cpuPerCall: r.cpuPerCall })),
        };
      }
      for (const v of h2) {
        const f = result.h2load[v.name];
        f.vsNone = ratio(f.rate, result.h2load.none?.rate);
        f.vsPublic = ratio(f.rate, result.h2load.public?.rate);
        f.cpuOverNone = f.cpuPerCall - (result.h2load.none?.cpuPerCall ?? NaN);
      }
    }

    // Single-core verify rates: the floor the cold path is judged against.
    const vi = await verifier.call('init', { privateJwk: key.privateJwk, publicJwk: key.publicJwk });
    if (!vi.authmesh) result.notes.push(`in-process authmesh verify skipped: ${vi.authError}`);
    const vr = [];
    for (let round = 0; round < rounds; round++) {
      vr.push(await verifier.call('round', { ms: quick ? 500 : 1000 }));
      log(
        `  verify round ${round + 1}: ${Object.entries(vr.at(-1))
          .map(([k, v]) => `${k} ${Math.round(v.rate)}/s ${v.cpuUs.toFixed(1)} µs CPU`)
          .join(', ')}`,
      );
    }
    for (const k of Object.keys(vr[0]))
      result.verify[k] = { rate: median(vr.map((r) => r[k].rate)), cpuUs: median(vr.map((r) => r[k].cpuUs)) };
    return result;
  } finally {
    await Promise.allSettled([server.stop(), load.stop(), verifier.stop()]);
  }
}
