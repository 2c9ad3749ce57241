// Suite 5: revocations per second at the auth service. The real auth service on nats-server, a load
// process firing Revoke RPCs over gRPC with an admin token, each for a distinct jti (kind jti) or
// subject (kind sub: "revoke every session of these users", which also writes a KV marker), many in
// flight. Every answer comes after its own event's JetStream ack (the Revoke contract), so the rate
// is of durable revocations. Baseline in the same run: bare JetStream publishes from a plain nats.js
// client (async, as many in flight), the floor the stream itself sets.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from '../lib/child.mjs';
import { startMesh } from '../lib/mesh.mjs';
import { fmt } from '../lib/report.mjs';
import { median, ratio } from '../lib/stats.mjs';
import { processCpuUs } from '../lib/proc-cpu.mjs';

const load = fileURLToPath(new URL('./load.mjs', import.meta.url));
const floor = fileURLToPath(new URL('./floor.mjs', import.meta.url));
const authBin = fileURLToPath(new URL('../../services/auth/bin/authmesh.js', import.meta.url));

/**
 * The bulk form: `authmesh revoke --subjects-file` in a process of its own (as an operator runs it),
 * `count` distinct subjects. Rate over the CLI's own elapsed_ms (connect and store opening included).
 */
async function bulkRun(env, count, round, batch = false) {
  const dir = mkdtempSync(join(tmpdir(), 'authmesh-bench-'));
  try {
    const file = join(dir, 'subjects.txt');
    writeFileSync(
      file,
      Array.from({ length: count }, (_, i) => `bulk${batch ? 'b' : ''}${round}-${i}`).join('\n'),
    );
    const out = await new Promise((resolve, reject) => {
      const args = [
        authBin,
        'revoke',
        '--subjects-file',
        file,
        '--reason',
        'bench',
        ...(batch ? ['--batch'] : []),
      ];
      const p = spawn(process.execPath, args, { env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => p.kill('SIGKILL'), 120_000);
      p.on('exit', (code) => {
        clearTimeout(t);
        if (code === 0) resolve(JSON.parse(stdout.trim().split('\n').pop()));
        else reject(new Error(`authmesh revoke --subjects-file exited ${code}: ${stderr.slice(-300)}`));
      });
    });
    return {
      ok: out.count,
      errors: out.failed ? { failed: out.failed } : {},
      elapsedMs: out.elapsed_ms,
      perSec: (out.count / out.elapsed_ms) * 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs suite 5 on a mesh of its own. */
export async function runRevoke({ rounds, quick, log, into = {} }) {
  const count = quick ? 10_000 : 20_000;
  const timeMs = quick ? 3_000 : 5_000;
  const concurrency = 256;
  const mesh = await startMesh({ clients: [{ id: 'bench-admin', scopes: ['authmesh:admin'] }] });
  const result = Object.assign(into, { count, timeMs, concurrency, kinds: {}, notes: [] });
  const child = new Child(load);
  const bare = new Child(floor);
  try {
    await child.call('init', {
      authTarget: mesh.auth.grpc,
      adminId: 'bench-admin',
      adminSecret: mesh.secrets['bench-admin'],
    });
    await bare.call('init', { natsUrl: mesh.nats.url });
    await child.call('run', { kind: 'jti', prefix: 'warm', count: 500, concurrency: 32, timeMs: 5_000 });
    const samples = { floor: [], jti: [], sub: [], bulk: [], bulkBatch: [] };
    const authPid = mesh.auth.proc.pid;
    const natsPid = mesh.nats.proc?.pid;
    for (let round = 0; round < rounds; round++) {
      for (const kind of ['floor', 'jti', 'sub', 'bulk', 'bulkBatch']) {
        const a0 = processCpuUs(authPid);
        const n0 = processCpuUs(natsPid);
        const r =
          kind === 'floor'
            ? await bare.call('run', { count, concurrency, timeMs })
            : kind === 'bulk' || kind === 'bulkBatch'
              ? await bulkRun(mesh.env, count, round, kind === 'bulkBatch')
              : await child.call('run', { kind, prefix: `r${round}`, count, concurrency, timeMs });
        r.authCpuUs = (processCpuUs(authPid) - a0) / r.ok;
        r.natsCpuUs = (processCpuUs(natsPid) - n0) / r.ok;
        samples[kind].push(r);
        if (kind === 'bulk' || kind === 'bulkBatch') {
          // The auth service's guard verifies every event the CLI published (one signature check each on
          // its event loop) before it answers promptly again: wait for that, and say how long it took.
          const settle = await child.call('run', {
            kind: 'jti',
            prefix: `settle${round}`,
            count: 1,
            concurrency: 1,
            timeMs: 60_000,
          });
          r.settleMs = settle.p50;
        }
        const errs = Object.keys(r.errors ?? {}).length ? ` errors ${JSON.stringify(r.errors)}` : '';
        log(
          `  revoke round ${round + 1} ${kind}: ${Math.round(r.perSec)}/s (${r.ok} in ${Math.round(r.elapsedMs)} ms) p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ms; auth ${fmt(r.authCpuUs)} µs, nats ${fmt(r.natsCpuUs)} µs CPU each${errs}`,
        );
      }
    }
    for (const [kind, rs] of Object.entries(samples)) {
      const rates = rs.map((r) => r.perSec);
      result.kinds[kind] = {
        perSec: median(rates),
        spread: { min: Math.min(...rates), max: Math.max(...rates) },
        p50: median(rs.map((r) => r.p50 ?? NaN)),
        p99: median(rs.map((r) => r.p99 ?? NaN)),
        authCpuUs: median(rs.map((r) => r.authCpuUs)),
        natsCpuUs: median(rs.map((r) => r.natsCpuUs)),
        errors: rs.reduce((n, r) => n + Object.values(r.errors ?? {}).reduce((a, b) => a + b, 0), 0),
        settleMs: kind === 'bulk' || kind === 'bulkBatch' ? median(rs.map((r) => r.settleMs)) : undefined,
      };
      if (result.kinds[kind].errors)
        result.notes.push(`revoke ${kind}: ${result.kinds[kind].errors} calls failed`);
    }
    return result;
  } finally {
    await child.stop();
    await bare.stop();
    await mesh.stop();
  }
}

const LABEL = {
  floor: 'bare JetStream publish, async, acked (baseline)',
  jti: 'Revoke RPC {jti}, distinct jtis, durable before each answer',
  sub: 'Revoke RPC {subject}, distinct subjects (KV marker + event)',
  bulk: 'authmesh revoke --subjects-file (CLI process, 256 in flight, each durable)',
  bulkBatch:
    'authmesh revoke --subjects-file --batch (KV marker each, one signed event per ≤ 1000 subjects, all durable before the CLI ends)',
};

/** Table rows of suite 5. */
export function revokeRows(r) {
  return Object.entries(r.kinds).map(([kind, s]) => [
    'revoke rate',
    LABEL[kind],
    r.concurrency,
    fmt(s.perSec),
    fmt(s.p50),
    fmt(s.p99),
    `[${fmt(s.spread.min)}–${fmt(s.spread.max)}]/s; auth ${fmt(s.authCpuUs)} µs, nats-server ${fmt(s.natsCpuUs)} µs CPU per revocation${s.settleMs === undefined ? '' : `; next Revoke answered ${fmt(s.settleMs)} ms after the bulk (the auth guard verifying its events)`}`,
    kind === 'floor' ? 'baseline' : `${fmt(ratio(s.perSec, r.kinds.floor?.perSec))}× bare publish`,
  ]);
}

/** Targets of suite 5: the rate's spread over rounds must clear the bar. */
export function revokeTargets(r) {
  return ['jti', 'sub', 'bulk', 'bulkBatch']
    .filter((k) => r.kinds[k])
    .map((k) => ({
      target:
        k === 'bulk' || k === 'bulkBatch'
          ? `≥ 10,000 durable revocations/s, bulk form (authmesh revoke --subjects-file${k === 'bulkBatch' ? ' --batch' : ''})`
          : `≥ 10,000 durable revocations/s through the Revoke RPC (${k})`,
      figure: r.kinds[k].perSec,
      spread: r.kinds[k].spread,
      bar: 10_000,
      higher: true,
      unit: '/s',
    }));
}
