// Suite 2: revocation propagation. The real auth service + nats-server + 5 and then 20 echo
// instances (processes); a prober process polls every instance while a token is revoked and
// reports Revoke's return → first rejection, per instance (p50/p99 over instances × trials).
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.mjs';
import { startMesh } from '../lib/mesh.mjs';
import { fmt } from '../lib/report.mjs';
import { percentiles, median } from '../lib/stats.mjs';

const prober = fileURLToPath(new URL('./prober.mjs', import.meta.url));

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
    return result;
  } finally {
    await mesh.stop();
  }
}

/** Table rows of suite 2. */
export function propagationRows(r) {
  return Object.entries(r.instances).map(([n, s]) => [
    'revocation',
    `Revoke returned → rejected, ${n} echo instances (${s.samples} samples)`,
    n,
    '',
    fmt(s.p50),
    fmt(s.p99),
    `max ${fmt(s.max)} ms; Revoke RPC ${fmt(s.revokeMs)} ms; poll every ${fmt(s.pollIntervalMs)} ms`,
    `event on NATS (plain subscriber) p50 ${fmt(s.natsSeen?.p50)} / p99 ${fmt(s.natsSeen?.p99)} ms`,
  ]);
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
  return t;
}
