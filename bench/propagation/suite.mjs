// Suite 2: revocation propagation. The real auth service + nats-server + 5 and then 20 echo
// instances (processes); a prober process polls every instance while a token is revoked and
// reports Revoke's return → first rejection, per instance (p50/p99 over instances × trials).
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.mjs';
import { meshIssuer, startMesh } from '../lib/mesh.mjs';
import { fmt } from '../lib/report.mjs';
import { percentiles, median } from '../lib/stats.mjs';

const prober = fileURLToPath(new URL('./prober.mjs', import.meta.url));
const feedHost = fileURLToPath(new URL('./feed-host.mjs', import.meta.url));
/** The 50-feed row: this many processes, each with this many feeds (an echo instance has one). */
const FEED_PROCESSES = 5;
const FEEDS_PER_PROCESS = 10;

/** Runs suite 2 on a mesh of its own. */
export async function runPropagation({ quick, log }) {
  const trials = quick ? 4 : 12;
  const mesh = await startMesh({
    clients: [
      { id: 'bench-admin', scopes: ['authmesh:admin'] },
      { id: 'bench-svc', scopes: ['x'], audiences: ['echo'] },
    ],
  });
  const result = { instances: {}, notes: [] };
  try {
    for (const n of [5, 20]) {
      const targets = await mesh.addEchoes(n - mesh.echoes.length);
      log(`propagation: ${targets.length} echo instances up`);
      const p = new Child(prober);
      try {
        await p.call('init', {
          natsUrl: mesh.nats.url,
          authTarget: mesh.auth.grpc,
          echoTargets: targets,
          adminId: 'bench-admin',
          adminSecret: mesh.secrets['bench-admin'],
          svcId: 'bench-svc',
          svcSecret: mesh.secrets['bench-svc'],
        });
        const lat = [];
        const revokeMs = [];
        const interval = [];
        const natsSeen = [];
        let missed = 0;
        for (let t = 0; t < trials; t++) {
          const r = await p.call('trial', {});
          missed += r.latenciesMs.filter((v) => !Number.isFinite(v)).length;
          lat.push(...r.latenciesMs.filter(Number.isFinite).map((v) => Math.max(0, v)));
          revokeMs.push(r.revokeMs);
          natsSeen.push(r.natsSeenMs);
          interval.push(median(r.pollIntervalMs));
          log(
            `  ${n} instances, trial ${t + 1}: p50 ${fmt(percentiles(r.latenciesMs).p50)} ms, max ${fmt(Math.max(...r.latenciesMs))} ms, Revoke ${fmt(r.revokeMs)} ms, event on NATS ${fmt(r.natsSeenMs)} ms`,
          );
        }
        result.instances[n] = {
          samples: lat.length,
          ...percentiles(lat),
          max: Math.max(...lat),
          revokeMs: median(revokeMs),
          natsSeen: percentiles(natsSeen.filter(Number.isFinite)),
          pollIntervalMs: median(interval),
          missed,
        };
        if (missed) result.notes.push(`${n} instances: ${missed} instance(s) never rejected within 5 s`);
      } finally {
        await p.stop();
      }
    }
    // The echo processes go first: 20 of them beside 5 feed hosts would only measure 2 cores' queue.
    await Promise.all(mesh.echoes.splice(0).map((e) => e.stop()));
    result.feeds = await feedsRow({ mesh, quick, log });
    if (result.feeds.missed)
      result.notes.push(`feeds: ${result.feeds.missed} (feed, revocation) pairs never applied`);
    return result;
  } finally {
    await mesh.stop();
  }
}

/**
 * 50 feeds in FEED_PROCESSES processes: a series of revocations, each timed from Revoke's return to
 * each feed's `onRevoked` (p50/p99 over feeds × revocations). Feeds are the interceptor's revocation
 * feeds as an echo instance runs them; the auth service's own guard is one more.
 */
async function feedsRow({ mesh, quick, log }) {
  const hosts = Array.from({ length: FEED_PROCESSES }, () => new Child(feedHost));
  const p = new Child(prober);
  try {
    await Promise.all(
      hosts.map((h) =>
        h.call('init', {
          natsUrl: mesh.nats.url,
          authTarget: mesh.auth.grpc,
          issuer: meshIssuer,
          count: FEEDS_PER_PROCESS,
        }),
      ),
    );
    await p.call('init', {
      natsUrl: mesh.nats.url,
      authTarget: mesh.auth.grpc,
      echoTargets: [],
      adminId: 'bench-admin',
      adminSecret: mesh.secrets['bench-admin'],
      svcId: 'bench-svc',
      svcSecret: mesh.secrets['bench-svc'],
    });
    log(`propagation: ${FEED_PROCESSES} processes × ${FEEDS_PER_PROCESS} feeds ready`);
    await p.call('revokeSeries', { n: 5, gapMs: 40 }); // warm-up (JIT, connections)
    const series = await p.call('revokeSeries', { n: quick ? 30 : 60, gapMs: 40 });
    await new Promise((r) => setTimeout(r, 200)); // the last event's fan-out
    const values = series.map((r) => r.value);
    const perHost = await Promise.all(hosts.map((h) => h.call('collect', { values })));
    // p99 per third of the series too: the target's spread.
    const thirds = [[], [], []];
    const fromReturn = [];
    const fromCall = [];
    const fromNats = [];
    let missed = 0;
    for (const feeds of perHost)
      for (const times of feeds)
        times.forEach((t, i) => {
          if (t === null) return void missed++;
          const r = series[i];
          fromReturn.push(Math.max(0, t - r.ret));
          thirds[Math.floor((i * 3) / series.length)].push(Math.max(0, t - r.ret));
          fromCall.push(t - r.call);
          if (r.nats !== null) fromNats.push(t - r.nats);
        });
    const row = {
      processes: FEED_PROCESSES,
      feeds: FEED_PROCESSES * FEEDS_PER_PROCESS,
      revocations: series.length,
      samples: fromReturn.length,
      ...percentiles(fromReturn),
      max: Math.max(...fromReturn),
      p99Spread: {
        min: Math.min(...thirds.map((x) => percentiles(x).p99)),
        max: Math.max(...thirds.map((x) => percentiles(x).p99)),
      },
      fromCall: percentiles(fromCall),
      fromNats: percentiles(fromNats),
      revokeMs: median(series.map((r) => r.ret - r.call)),
      missed,
    };
    log(
      `  ${row.feeds} feeds: returned → applied p50 ${fmt(row.p50)} p99 ${fmt(row.p99)} ms; called → applied p99 ${fmt(row.fromCall.p99)} ms; on NATS → applied p99 ${fmt(row.fromNats.p99)} ms`,
    );
    return row;
  } finally {
    await p.stop();
    await Promise.all(hosts.map((h) => h.stop()));
  }
}

/** Table rows of suite 2. */
export function propagationRows(r) {
  const rows = Object.entries(r.instances).map(([n, s]) => [
    'revocation',
    `Revoke returned → rejected, ${n} echo instances (${s.samples} samples)`,
    n,
    '',
    fmt(s.p50),
    fmt(s.p99),
    `max ${fmt(s.max)} ms; Revoke RPC ${fmt(s.revokeMs)} ms; poll every ${fmt(s.pollIntervalMs)} ms`,
    `event on NATS (plain subscriber) p50 ${fmt(s.natsSeen?.p50)} / p99 ${fmt(s.natsSeen?.p99)} ms`,
  ]);
  const f = r.feeds;
  if (f)
    rows.push([
      'revocation',
      `Revoke returned → applied (onRevoked), ${f.feeds} feeds in ${f.processes} processes (${f.samples} samples)`,
      f.feeds,
      '',
      fmt(f.p50),
      fmt(f.p99),
      `max ${fmt(f.max)} ms; Revoke called → applied p50 ${fmt(f.fromCall.p50)} / p99 ${fmt(f.fromCall.p99)} ms; Revoke RPC ${fmt(f.revokeMs)} ms; ${f.revocations} revocations, one at a time`,
      `event on NATS (plain subscriber) → applied p50 ${fmt(f.fromNats.p50)} / p99 ${fmt(f.fromNats.p99)} ms`,
    ]);
  return rows;
}

/** Targets of suite 2. */
export function propagationTargets(r) {
  const t = [];
  if (r.instances[5])
    t.push({
      target: 'revocation p99 ≤ 10 ms at 5 instances',
      figure: r.instances[5].p99,
      bar: 10,
      higher: false,
      unit: 'ms',
    });
  if (r.instances[20])
    t.push({
      target: 'revocation p99 ≤ 25 ms at 20 instances',
      figure: r.instances[20].p99,
      bar: 25,
      higher: false,
      unit: 'ms',
    });
  if (r.feeds)
    t.push({
      target: `revocation p99 ≤ 10 ms at ${r.feeds.feeds} feeds (${r.feeds.processes} processes)`,
      figure: r.feeds.p99,
      // p99 of each third of the revocation series
      spread: r.feeds.p99Spread,
      bar: 10,
      higher: false,
      unit: 'ms',
    });
  return t;
}
