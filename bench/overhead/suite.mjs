// Suite 1: per-call overhead. A server process (overhead/server.mjs) with one grpc-js server per
// variant, a load process (overhead/load.mjs) and h2load. Every figure comes from at least 16 paired
// short windows (lib/paired.mjs): each pass measures every variant once, in an order rotated by one,
// and ratios are taken within a pass and reported with their spread (min–max over passes). Server CPU
// per call is read three ways: the main thread from /proc/<pid>/task/<pid>/schedstat (what slows the
// event loop), every thread from schedstat, and process.cpuUsage(); GC pauses per call beside them.
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.mjs';
import { newSigningKey, transportControlHeader, transportControlValue } from '../lib/keys.mjs';
import { ensureRevocationStream } from '../lib/stream.mjs';
import { findH2load, h2loadHint, h2loadRun } from '../lib/h2load.mjs';
import { median } from '../lib/stats.mjs';
import { MIN_PAIRS, pairedWindows, perPair, spread } from '../lib/paired.mjs';
import { allThreadsCpuUs, mainThreadCpuUs } from '../lib/proc-cpu.mjs';
import { pingMessage } from '../lib/bench-proto.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const AUTHED = '/bench.v1.Bench/Authed';
const PUBLIC = '/bench.v1.Bench/Public';

/**
 * The variants: which server, which method, which token. Two controls in every table: `bare` (no
 * interceptor, no token: what a call costs at all) and `publicPadded` (authmesh's public method sent a
 * literal header as long as `authorization: Bearer <token>`: what carrying the token costs, so that
 * warm − publicPadded is the interceptor's own work). `quick` variants run in --quick.
 */
const variants = [
  {
    name: 'bare',
    server: 'none',
    path: AUTHED,
    mode: 'none',
    quick: true,
    label: 'no interceptor, no token',
  },
  {
    name: 'none',
    server: 'none',
    path: AUTHED,
    mode: 'warm',
    quick: true,
    label: 'no interceptor, token sent',
  },
  {
    name: 'public',
    server: 'authmesh',
    path: PUBLIC,
    mode: 'none',
    quick: true,
    label: 'authmesh, public method, no token',
  },
  {
    name: 'publicPadded',
    server: 'authmesh',
    path: PUBLIC,
    mode: 'pad',
    quick: true,
    label: 'authmesh, public method + same-length literal header (transport control)',
  },
  {
    name: 'warm',
    server: 'authmesh',
    path: AUTHED,
    mode: 'warm',
    quick: true,
    label: 'authmesh, warm token (cache hit)',
  },
  {
    name: 'cold',
    server: 'authmesh',
    path: AUTHED,
    mode: 'cold',
    quick: true,
    grpcOnly: true,
    label: 'authmesh, new token every call',
  },
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

/** Which pair figures each row reports: [key, other variant, what the ratio column calls it]. */
export const comparisons = [
  ['vsBare', 'bare', 'no token'],
  ['vsPublic', 'public', 'public'],
  ['vsControl', 'publicPadded', 'control'],
  ['vsNone', 'none', 'no interceptor'],
];

/** Per-call figures of one window from two server snapshots. */
function perCall(s0, s1) {
  const served = s1.calls - s0.calls;
  const per = (a, b) => (served > 0 ? (b - a) / served : NaN);
  return {
    served,
    cpuPerCall: per(s0.cpuUs, s1.cpuUs),
    mainPerCall: per(s0.mainUs, s1.mainUs),
    threadsPerCall: per(s0.allUs, s1.allUs),
    gcPerCall: per(s0.gcMs * 1000, s1.gcMs * 1000),
  };
}

/** Medians over windows, pair figures against the controls, and the windows themselves. */
function summarize(samples, names, labelOf, extra = {}) {
  const out = {};
  for (const name of names) {
    const rs = samples[name];
    const f = { label: labelOf(name), windows: rs.length, ...extra };
    for (const k of ['rate', 'p50', 'p99', 'cpuPerCall', 'mainPerCall', 'threadsPerCall', 'gcPerCall'])
      f[k] = median(rs.map((r) => r[k]));
    for (const [key, other] of comparisons) {
      if (other === name || !samples[other]) continue;
      f[key] = perPair(rs, samples[other], (a, b) => a.rate / b.rate);
      f[`main${key.slice(2)}`] = perPair(rs, samples[other], (a, b) => a.mainPerCall - b.mainPerCall);
    }
    f.perWindow = rs.map((r) => ({
      rate: r.rate,
      p99: r.p99,
      mainPerCall: r.mainPerCall,
      cpuPerCall: r.cpuPerCall,
      gcPerCall: r.gcPerCall,
    }));
    out[name] = f;
  }
  return out;
}

/** Runs suite 1; `nats` (optional) is a NatsServer for the feed variant. */
export async function runOverhead({ rounds, durationMs, quick, nats, log, into = {} }) {
  const concurrencies = quick ? [64] : [1, 64];
  const pairs = Math.max(MIN_PAIRS, rounds);
  // Short windows: many pairs beat few long rounds on a machine whose load moves by the second.
  const windowMs = Math.min(durationMs, quick ? 500 : 1000);
  const key = newSigningKey();
  const server = new Child(here('./server.mjs'));
  const load = new Child(here('./load.mjs'));
  const verifier = new Child(here('./verify-rate.mjs'), { execArgv: ['--expose-gc'] });
  const result = Object.assign(into, {
    concurrencies,
    pairs,
    windowMs,
    variants: {},
    h2load: {},
    verify: {},
    notes: [],
  });
  const snapshot = async () => {
    const s = await server.call('snapshot');
    return { ...s, mainUs: mainThreadCpuUs(server.pid), allUs: allThreadsCpuUs(server.pid) };
  };
  try {
    if (nats) await ensureRevocationStream(nats.url);
    const { addrs, unavailable } = await server.call('start', {
      publicJwk: key.publicJwk,
      natsUrl: nats?.url,
    });
    for (const [k, v] of Object.entries(unavailable)) result.notes.push(`${k} variant skipped: ${v}`);
    const { warmToken } = await load.call('init', { privateJwk: key.privateJwk });
    result.tokenChars = warmToken.length;
    const chosen = variants.filter((v) => addrs[v.server] && (!quick || v.quick));
    const grpcVariants = chosen;
    const h2variants = chosen.filter((v) => !v.grpcOnly);
    const labelOf = (name) => variants.find((v) => v.name === name).label;
    const lastRate = {};

    const measureGrpc = (c) => async (v) => {
      if (v.mode === 'cold') {
        // Every call must carry a token the server has never seen: size the pool well above the
        // best rate seen so far (a reused token would be a cache hit; reuse is counted and noted).
        const best = Math.max(8000, ...Object.values(lastRate));
        await load.call('presign', { count: Math.ceil((best * windowMs * 2) / 1000) + 2000 });
      }
      const s0 = await snapshot();
      const r = await load.call('run', {
        target: addrs[v.server],
        path: v.path,
        concurrency: c,
        durationMs: windowMs,
        mode: v.mode,
      });
      const s1 = await snapshot();
      if (v.mode === 'cold') lastRate[c] = Math.max(lastRate[c] ?? 0, r.rate);
      if (r.wrapped) result.notes.push(`cold c=${c}: token pool reused ${r.wrapped}×`);
      return { ...r, ...perCall(s0, s1) };
    };

    log(`overhead: warm-up of ${grpcVariants.length} variants`);
    for (const v of grpcVariants) await measureGrpc(16)(v);
    for (const c of concurrencies) {
      log(`overhead grpc-js c=${c}: ${pairs} passes × ${grpcVariants.length} windows of ${windowMs} ms`);
      const samples = await pairedWindows(grpcVariants, pairs, measureGrpc(c));
      const errs = (name) =>
        samples[name].reduce((n, r) => n + Object.values(r.errors).reduce((a, b) => a + b, 0), 0);
      const s = summarize(samples, Object.keys(samples), labelOf);
      for (const [name, f] of Object.entries(s)) {
        f.errors = errs(name);
        (result.variants[name] ??= { label: f.label, byConcurrency: {} }).byConcurrency[c] = f;
        log(
          `  c=${c} ${name}: ${Math.round(f.rate)}/s, main ${f.mainPerCall.toFixed(1)} µs/call, process ${f.cpuPerCall.toFixed(1)} µs/call${f.errors ? `, ${f.errors} errors` : ''}`,
        );
      }
    }

    // h2load: the server's own ceiling (the grpc-js client is the bottleneck above).
    const bin = findH2load();
    if (!bin) {
      result.notes.push(h2loadHint);
      log(h2loadHint);
    } else {
      const streams = 64;
      const pad = { [transportControlHeader]: transportControlValue(warmToken) };
      const measureH2 = async (v) => {
        const s0 = await snapshot();
        const r = await h2loadRun({
          bin,
          target: addrs[v.server],
          path: v.path,
          message: pingMessage,
          token: v.mode === 'warm' ? warmToken : undefined,
          headers: v.mode === 'pad' ? pad : {},
          streams,
          durationS: windowMs / 1000,
          warmupS: 0.1,
        });
        const s1 = await snapshot();
        return { ...r, ...perCall(s0, s1) };
      };
      for (const v of h2variants) await measureH2(v); // connection set-up, JIT
      log(`overhead h2load: ${pairs} passes × ${h2variants.length} windows of ${windowMs} ms`);
      const samples = await pairedWindows(h2variants, pairs, measureH2);
      result.h2load = summarize(samples, Object.keys(samples), labelOf, { streams });
      for (const [name, f] of Object.entries(result.h2load)) {
        // Every request must have reached the handler: h2load cannot see gRPC errors itself.
        f.rejected = samples[name].reduce((n, r) => n + Math.max(0, r.done - r.served), 0);
        log(
          `  h2load ${name}: ${Math.round(f.rate)}/s, main ${f.mainPerCall.toFixed(2)} µs/call, process ${f.cpuPerCall.toFixed(2)} µs/call, GC ${f.gcPerCall.toFixed(2)} µs/call`,
        );
      }
    }

    // Single-core verify rates: the floor the cold path is judged against.
    const vi = await verifier.call('init', { privateJwk: key.privateJwk, publicJwk: key.publicJwk });
    if (!vi.authmesh) result.notes.push(`in-process authmesh verify skipped: ${vi.authError}`);
    const vr = [];
    const verifyRounds = Math.max(rounds, 5);
    for (let round = 0; round < verifyRounds; round++) {
      vr.push(await verifier.call('round', { ms: quick ? 300 : 1000 }));
      log(
        `  verify round ${round + 1}: ${Object.entries(vr.at(-1))
          .map(([k, v]) => `${k} ${Math.round(v.rate)}/s ${v.cpuUs.toFixed(1)} µs CPU`)
          .join(', ')}`,
      );
    }
    for (const k of Object.keys(vr[0]))
      result.verify[k] = { rate: median(vr.map((r) => r[k].rate)), cpuUs: median(vr.map((r) => r[k].cpuUs)) };
    const wp = await verifier.call('warmPath', { passes: pairs, n: quick ? 100_000 : 300_000 });
    if (wp) {
      result.verify.warmPath = spread(wp.deltas);
      log(`  warm path in-process: ${wp.deltas.map((d) => d.toFixed(2)).join(' ')} µs/call over its control`);
    }
    const coldRatios = await verifier.call('coldPairs', { pairs, ms: quick ? 200 : 400 });
    if (coldRatios) {
      result.verify.coldPerCpuSecond = spread(coldRatios);
      log(
        `  cold path / node:crypto per CPU-second, paired: ${coldRatios.map((r) => r.toFixed(2)).join(' ')}`,
      );
    }
    return result;
  } finally {
    await Promise.allSettled([server.stop(), load.stop(), verifier.stop()]);
  }
}
