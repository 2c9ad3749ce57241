#!/usr/bin/env node
// Soak: sustained mixed load (password logins, refreshes, client-credentials tokens, WhoAmI calls on two
// echo processes, revocations) against real processes (nats-server, auth, 2 × echo). Every report period
// it prints calls served, outcomes by status, and RSS / heap used / external / array buffers of each
// process; at the end, memory at the end of warm-up, at the start of the steady-state window and at the
// end, and the growth over that window. It exits non-zero when a service's RSS grows ≥ --rss-limit % over
// the steady-state window (the last --tail-minutes), ≥ 10 % after warm-up, a revoked token still passes
// after the propagation bound, or anything unexpected (INTERNAL, UNKNOWN, a valid token refused) happened.
//
//   npm run soak                                   # 10 minutes, unpaced
//   node test/soak/soak.mjs --minutes 60 --rate 2500 --samples /tmp/soak.json
//   node test/soak/soak.mjs --minutes 4 --rate 2000 --heap-snapshots 60 --heap-snapshot-dir /tmp/snaps
//     (heap snapshots of the echoes every 60 s, through the probe)
//
// --rate bounds the WhoAmI calls per second (all callers together) so a soak can run on a shared machine
// without starving it; memory per call is what matters here, not throughput. --max-calls ends the run
// early after that many calls. The run always ends: after --minutes, plus a watchdog.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { authGrpc, echoGrpc } from '@authmesh/proto';
import { NatsServer, ServiceProcess, repoRoot } from '@authmesh/testing';

const args = process.argv.slice(2);
/** A numeric option, validated once: its name is in the error. */
function numberOption(name, fallback, min, max) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`${name}: must be a number in [${min}, ${max}], got ${args[i + 1]}`);
    process.exit(2);
  }
  return v;
}
function stringOption(name) {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) {
    console.error(`${name}: needs a value`);
    process.exit(2);
  }
  return v;
}
const minutes = numberOption('--minutes', 10, 0.1, 24 * 60);
const RATE = numberOption('--rate', 0, 0, 1_000_000); // 0: unpaced
const MAX_CALLS = numberOption('--max-calls', Infinity, 1, Number.MAX_SAFE_INTEGER);
const DURATION_MS = minutes * 60_000;
// Warm-up: JIT, caches and pools fill; RSS is compared from its end (20 % of the run, 30 s to 2 min).
const WARMUP_MS = Math.min(120_000, Math.max(30_000, DURATION_MS * 0.2));
// Steady-state window: the last 40 minutes of a 60-minute run, two thirds of a shorter one.
const TAIL_MS = numberOption('--tail-minutes', Math.min(40, (minutes * 2) / 3), 0.1, minutes) * 60_000;
const TAIL_LIMIT = numberOption('--rss-limit', 3, 0, 100) / 100;
const REPORT_MS = Math.min(30_000, Math.max(5_000, DURATION_MS / 10));
const SAMPLES_FILE = stringOption('--samples');
const SNAPSHOT_EVERY_S = numberOption('--heap-snapshots', 0, 0, 3600);
const SNAPSHOT_DIR = stringOption('--heap-snapshot-dir');
if (SNAPSHOT_EVERY_S > 0 && !SNAPSHOT_DIR) {
  console.error('--heap-snapshots: needs --heap-snapshot-dir');
  process.exit(2);
}
const CALLERS = 24;
const SESSIONS = 40;
const REVOCATION_BOUND_MS = 2000;
const RSS_LIMIT = 0.1;
// Mean of this much sampling around each reported point, so one GC or allocator moment is not a figure.
const MEAN_WINDOW_MS = 30_000;

const bin = join(repoRoot, 'services/auth/bin/authmesh.js');
const echoMain = join(repoRoot, 'services/echo/dist/main.js');
const probe = join(repoRoot, 'test/soak/memory-probe.mjs');
const memDir = mkdtempSync(join(tmpdir(), 'authmesh-soak-'));
const ISSUER = 'http://auth.soak.test';
const PASSWORD = 'soak password';

const started = [];
let nats;
const stopAll = async () => {
  await Promise.all(started.map((p) => p.stop().catch(() => undefined)));
  await nats?.stop().catch(() => undefined);
  rmSync(memDir, { recursive: true, force: true });
};

function cli(env, cliArgs, stdin = '') {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bin, ...cliArgs], { cwd: repoRoot, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`authmesh ${cliArgs.join(' ')}: ${err}`)),
    );
    p.stdin.end(stdin);
  });
}

function unary(client, method, req, token, deadlineMs = 5000) {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    client[method](req, md, { deadline: Date.now() + deadlineMs }, (err, res) =>
      resolve(err ? { code: err.code, details: err.details } : { code: 0, res }),
    ),
  );
}

const claimsOf = (t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString());

function memory(proc) {
  // RSS split as the kernel counts it: anonymous (V8's heap, malloc, buffers) and file-backed (the
  // node binary's and libraries' pages touched so far, which grow as new code paths run).
  let rss = NaN;
  let rssAnon = NaN;
  let rssFile = NaN;
  try {
    const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
    const kb = (field) => {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
      return m ? Number(m[1]) * 1024 : NaN;
    };
    rss = kb('VmRSS');
    rssAnon = kb('RssAnon');
    rssFile = kb('RssFile');
  } catch {}
  let probed = {};
  try {
    probed = JSON.parse(readFileSync(join(memDir, `${proc.pid}.json`), 'utf8'));
  } catch {}
  const n = (v) => (typeof v === 'number' ? v : NaN);
  return {
    rss,
    rssAnon,
    rssFile,
    heap: n(probed.heapUsed),
    heapTotal: n(probed.heapTotal),
    external: n(probed.external),
    arrayBuffers: n(probed.arrayBuffers),
  };
}
const mb = (n) => (Number.isFinite(n) ? (n / 1048576).toFixed(1) : '?');

async function main() {
  nats = await NatsServer.start();
  const env = {
    NATS_URL: nats.url,
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_ISSUER: ISSUER,
    AUTHMESH_KEK: randomBytes(32).toString('base64url'),
    AUTHMESH_SCRYPT_N: '1024',
    AUTHMESH_KEY_ROTATION_INTERVAL: '0',
    // Short-lived tokens so expiry and refresh are part of the load.
    AUTHMESH_ACCESS_TTL: '60',
    SOAK_MEM_DIR: memDir,
  };
  const snapshotEnv = {};
  if (SNAPSHOT_EVERY_S > 0) {
    mkdirSync(resolve(SNAPSHOT_DIR), { recursive: true });
    snapshotEnv.SOAK_HEAPSNAPSHOT_DIR = resolve(SNAPSHOT_DIR);
    snapshotEnv.SOAK_HEAPSNAPSHOT_EVERY_S = String(SNAPSHOT_EVERY_S);
  }
  await cli(env, ['user', 'add', 'alice', '--scopes', 'echo:read', '--audiences', 'echo'], `${PASSWORD}\n`);
  const secrets = {};
  for (const [id, scopes] of [
    ['svc', 'echo:read'],
    ['admin', 'authmesh:admin'],
  ]) {
    secrets[id] = JSON.parse(
      (await cli(env, ['client', 'add', id, '--scopes', scopes, '--audiences', 'echo']))
        .trim()
        .split('\n')
        .pop(),
    ).client_secret;
  }
  const auth = await ServiceProcess.start({
    name: 'auth',
    args: ['--import', probe, bin, 'serve'],
    env,
  });
  started.push(auth);
  const echoes = [];
  for (let i = 0; i < 2; i++) {
    const p = await ServiceProcess.start({
      name: `echo${i}`,
      args: ['--import', probe, echoMain],
      env: {
        ECHO_GRPC_ADDR: '127.0.0.1:0',
        AUTHMESH_AUDIENCE: 'echo',
        AUTHMESH_ISSUER: ISSUER,
        AUTHMESH_AUTH_TARGET: auth.grpc,
        NATS_URL: nats.url,
        SOAK_MEM_DIR: memDir,
        ...snapshotEnv,
      },
    });
    started.push(p);
    echoes.push({
      proc: p,
      client: new (echoGrpc().echo.v1.Echo)(p.grpc, grpc.credentials.createInsecure()),
    });
  }
  const authClient = new (authGrpc().authmesh.v1.AuthService)(auth.grpc, grpc.credentials.createInsecure());
  const procs = [
    ['nats', nats.proc ?? nats.process],
    ['auth', auth.proc],
    ['echo0', echoes[0].proc.proc],
    ['echo1', echoes[1].proc.proc],
  ];

  const stats = {
    calls: 0,
    ok: 0,
    byStatus: new Map(),
    logins: 0,
    refreshes: 0,
    clientTokens: 0,
    revocations: 0,
    revocationChecks: 0,
    unexpected: [],
    lostRevocations: 0,
  };
  const count = (what, code) => {
    const k = `${what}:${grpc.status[code] ?? code}`;
    stats.byStatus.set(k, (stats.byStatus.get(k) ?? 0) + 1);
  };
  const unexpected = (what, r) => {
    if (stats.unexpected.length < 20)
      stats.unexpected.push(`${what}: ${grpc.status[r.code] ?? r.code} ${r.details ?? ''}`);
    else stats.unexpected.length++;
  };

  const adminToken = async () =>
    (
      await unary(authClient, 'IssueToken', {
        client_credentials: { client_id: 'admin', client_secret: secrets.admin },
      })
    ).res?.access_token;
  let admin = await adminToken();
  /** Sessions: { access, refresh, exp, revoked, revoking, busy }. */
  const sessions = [];
  const login = async () => {
    const r = await unary(authClient, 'IssueToken', {
      password: { username: 'alice', password: PASSWORD },
      audience: ['echo'],
    });
    count('login', r.code);
    if (r.code !== 0) return unexpected('login', r);
    stats.logins++;
    sessions.push({
      access: r.res.access_token,
      refresh: r.res.refresh_token,
      exp: claimsOf(r.res.access_token).exp,
      revoked: false,
      revoking: false,
      busy: false,
    });
  };
  for (let i = 0; i < SESSIONS; i++) await login();

  const t0 = Date.now();
  const end = t0 + DURATION_MS;
  const running = () => Date.now() < end && stats.calls < MAX_CALLS;
  // Pacing: one shared schedule of call slots for all callers, 1/RATE s apart; a caller waits for its
  // slot. Slots missed while the machine was busy are not made up in a burst (the schedule never runs
  // more than 100 ms behind).
  let nextSlot = Date.now();
  const pace = async () => {
    if (RATE <= 0) return;
    const now = Date.now();
    nextSlot = Math.max(nextSlot + 1000 / RATE, now - 100);
    const wait = nextSlot - now;
    if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
  };
  const pick = () => {
    const live = sessions.filter((s) => !s.revoked && !s.busy && s.exp > Date.now() / 1000 + 5);
    return live[Math.floor(Math.random() * live.length)];
  };

  async function caller(i) {
    const echo = echoes[i % 2].client;
    while (running()) {
      const s = pick();
      if (!s) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const token = s.access;
      const exp = s.exp;
      await pace();
      const r = await unary(echo, 'WhoAmI', {}, token);
      stats.calls++;
      count('WhoAmI', r.code);
      if (r.code === 0) stats.ok++;
      // A refusal is fine only for a token whose session is being revoked (the echo can learn of it
      // from the feed before the Revoke's answer reaches us), replaced by a refresh that raced, or
      // refused as expired when the answer came after its exp (a call queued on a starved machine).
      else if (!(
        r.code === grpc.status.UNAUTHENTICATED &&
        (s.revoking || s.access !== token || (r.details === 'token expired' && Date.now() / 1000 >= exp))
      ))
        unexpected('WhoAmI', r);
    }
  }

  async function refresher() {
    while (running()) {
      // The session closest to expiry.
      const s = sessions.filter((x) => !x.revoked && !x.busy).sort((a, b) => a.exp - b.exp)[0];
      if (s) {
        s.busy = true;
        const r = await unary(authClient, 'Refresh', { refresh_token: s.refresh });
        count('Refresh', r.code);
        if (r.code === 0) {
          stats.refreshes++;
          Object.assign(s, {
            access: r.res.access_token,
            refresh: r.res.refresh_token,
            exp: claimsOf(r.res.access_token).exp,
          });
        } else if (!s.revoked) unexpected('Refresh', r);
        s.busy = false;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function clientTokens() {
    while (running()) {
      const r = await unary(authClient, 'IssueToken', {
        client_credentials: { client_id: 'svc', client_secret: secrets.svc },
        audience: ['echo'],
      });
      count('IssueToken(cc)', r.code);
      if (r.code === 0) {
        stats.clientTokens++;
        const w = await unary(echoes[stats.clientTokens % 2].client, 'WhoAmI', {}, r.res.access_token);
        stats.calls++;
        count('WhoAmI', w.code);
        if (w.code === 0) stats.ok++;
        else unexpected('WhoAmI(cc)', w);
      } else unexpected('IssueToken(cc)', r);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function revoker() {
    while (running()) {
      await new Promise((r) => setTimeout(r, 1000));
      const s = pick();
      if (!s || sessions.length < SESSIONS / 2) continue;
      s.busy = true;
      s.revoking = true;
      const sid = claimsOf(s.access).sid;
      let r = await unary(authClient, 'Revoke', { session_id: sid, reason: 'soak' }, admin);
      if (r.code === grpc.status.UNAUTHENTICATED) {
        admin = await adminToken();
        r = await unary(authClient, 'Revoke', { session_id: sid, reason: 'soak' }, admin);
      }
      count('Revoke', r.code);
      if (r.code !== 0) {
        s.busy = false;
        s.revoking = false;
        unexpected('Revoke', r);
        continue;
      }
      s.revoked = true;
      stats.revocations++;
      sessions.splice(sessions.indexOf(s), 1);
      await login();
      // After the propagation bound, the revoked session's token and refresh token must be dead everywhere.
      setTimeout(async () => {
        // Lost: the revoked token still works. Any answer but OK or UNAUTHENTICATED (a deadline on a
        // starved machine) proves nothing either way: it is an unexpected outcome, not a lost revocation.
        for (const e of echoes) {
          const w = await unary(e.client, 'WhoAmI', {}, s.access);
          stats.revocationChecks++;
          if (w.code === 0) stats.lostRevocations++;
          else if (w.code !== grpc.status.UNAUTHENTICATED) unexpected('WhoAmI(revoked)', w);
        }
        const rr = await unary(authClient, 'Refresh', { refresh_token: s.refresh });
        stats.revocationChecks++;
        if (rr.code === 0) stats.lostRevocations++;
      }, REVOCATION_BOUND_MS);
    }
  }

  // Memory samples per process every 2 s: [{t, rss, heap, heapTotal, external, arrayBuffers}], and the
  // load average beside them (the machine may be shared).
  const samples = Object.fromEntries(procs.map(([n]) => [n, []]));
  const loads = [];
  const sampler = setInterval(() => {
    const t = Date.now() - t0;
    for (const [name, proc] of procs) if (proc) samples[name].push({ t, ...memory(proc) });
    loads.push({ t, load: loadavg()[0], calls: stats.calls });
  }, 2000);
  let lastCalls = 0;
  let lastT = t0;
  const report = () => {
    const now = Date.now();
    const rate = ((stats.calls - lastCalls) / ((now - lastT) / 1000)).toFixed(0);
    lastCalls = stats.calls;
    lastT = now;
    const mem = procs
      .map(([n, p]) => {
        if (!p) return '';
        const m = memory(p);
        return n === 'nats'
          ? `${n} rss ${mb(m.rss)}`
          : `${n} rss ${mb(m.rss)} heap ${mb(m.heap)}/${mb(m.heapTotal)} ext ${mb(m.external)} ab ${mb(m.arrayBuffers)}`;
      })
      .join(' | ');
    const codes = [...stats.byStatus].map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(
      `[soak ${((now - t0) / 1000).toFixed(0)} s] calls ${stats.calls} (${rate}/s, ok ${stats.ok}) logins ${stats.logins} refreshes ${stats.refreshes} cc-tokens ${stats.clientTokens} revocations ${stats.revocations} lost ${stats.lostRevocations} unexpected ${stats.unexpected.length} load ${loadavg()[0].toFixed(2)}\n    statuses: ${codes}\n    memory (MB): ${mem}`,
    );
  };
  const reporter = setInterval(report, REPORT_MS);
  console.log(
    `[soak] ${minutes} min, warm-up ${WARMUP_MS / 1000} s, steady-state window the last ${TAIL_MS / 60_000} min, ${CALLERS} callers on 2 echoes, ${RATE > 0 ? `paced at ${RATE} WhoAmI calls/s` : 'unpaced'}, ${SESSIONS} sessions, access TTL 60 s, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  await Promise.all([
    ...Array.from({ length: CALLERS }, (_, i) => caller(i)),
    refresher(),
    clientTokens(),
    revoker(),
  ]);
  const endT = Date.now() - t0;
  await new Promise((r) => setTimeout(r, REVOCATION_BOUND_MS + 1000));
  clearInterval(sampler);
  clearInterval(reporter);
  report();

  // Each figure is the mean of the samples in the MEAN_WINDOW_MS from a point (the last one: before the end).
  const mean = (a, k) => a.reduce((n, x) => n + x[k], 0) / a.length;
  const at = (name, from) => {
    const w = samples[name].filter((x) => x.t >= from && x.t < from + MEAN_WINDOW_MS);
    if (!w.some((x) => Number.isFinite(x.rss))) return undefined;
    return Object.fromEntries(
      ['rss', 'rssAnon', 'rssFile', 'heap', 'heapTotal', 'external', 'arrayBuffers'].map((k) => {
        const v = w.filter((x) => Number.isFinite(x[k]));
        return [k, v.length ? mean(v, k) : NaN];
      }),
    );
  };
  const lastFrom = Math.max(0, endT - MEAN_WINDOW_MS);
  const tailFrom = Math.max(WARMUP_MS, endT - TAIL_MS);
  const pct = (a, b) => `${((b / a - 1) * 100).toFixed(1)} %`;
  const fmt = (m, name) =>
    name === 'nats'
      ? `RSS ${mb(m.rss)}`
      : `RSS ${mb(m.rss)} (anon ${mb(m.rssAnon)}, file ${mb(m.rssFile)}), heap used ${mb(m.heap)} of ${mb(m.heapTotal)}, external ${mb(m.external)}, array buffers ${mb(m.arrayBuffers)}`;

  // Checkpoints: the end of warm-up, every tenth of the run (every 10 minutes from an hour up), the end.
  const step = DURATION_MS >= 60 * 60_000 ? 10 * 60_000 : Math.max(60_000, DURATION_MS / 10);
  const points = [WARMUP_MS];
  for (let t = step; t < lastFrom - MEAN_WINDOW_MS; t += step) if (t > WARMUP_MS) points.push(t);
  points.push(lastFrom);
  const loadAt = (from) => {
    const w = loads.filter((x) => x.t >= from && x.t < from + MEAN_WINDOW_MS);
    return w.length ? mean(w, 'load').toFixed(1) : '?';
  };
  console.log(
    `[soak] checkpoints (means of ${MEAN_WINDOW_MS / 1000} s from t; MB: RSS / heap used / external / array buffers):`,
  );
  console.log(`  t (s)  | load | ${procs.map(([n]) => n).join(' | ')}`);
  for (const p of points) {
    const cells = procs.map(([n]) => {
      const m = at(n, p);
      if (!m) return '?';
      return n === 'nats'
        ? mb(m.rss)
        : `${mb(m.rss)} / ${mb(m.heap)} / ${mb(m.external)} / ${mb(m.arrayBuffers)}`;
    });
    console.log(`  ${(p / 1000).toFixed(0).padStart(6)} | ${loadAt(p)} | ${cells.join(' | ')}`);
  }

  let failed = false;
  const lines = [];
  for (const [name] of procs) {
    const head = at(name, WARMUP_MS);
    const mid = at(name, tailFrom);
    const tail = at(name, lastFrom);
    if (!head || !mid || !tail) continue;
    const peak = Math.max(...samples[name].filter((x) => Number.isFinite(x.rss)).map((x) => x.rss));
    const afterWarmup = tail.rss / head.rss - 1;
    const overTail = tail.rss / mid.rss - 1;
    lines.push(
      `  ${name}: after warm-up ${fmt(head, name)}\n` +
        `    at ${(tailFrom / 1000).toFixed(0)} s ${fmt(mid, name)}\n` +
        `    at the end ${fmt(tail, name)} (peak RSS ${mb(peak)})\n` +
        `    RSS growth over the last ${((endT - tailFrom) / 60_000).toFixed(1)} min ${pct(mid.rss, tail.rss)}` +
        (name === 'nats' ? '' : `, heap used ${pct(mid.heap, tail.heap)}`) +
        `; after warm-up ${pct(head.rss, tail.rss)}`,
    );
    if (name === 'nats') continue;
    if (afterWarmup >= RSS_LIMIT || overTail >= TAIL_LIMIT) failed = true;
  }
  const secs = endT / 1000;
  const load = loads.length ? mean(loads, 'load') : NaN;
  const maxLoad = loads.length ? Math.max(...loads.map((x) => x.load)) : NaN;
  console.log(
    `[soak] done: ${stats.calls} calls in ${secs.toFixed(0)} s (${(stats.calls / secs).toFixed(0)}/s${RATE > 0 ? `, paced at ${RATE}/s` : ''}), ${stats.logins} logins, ${stats.refreshes} refreshes, ${stats.clientTokens} client tokens, ${stats.revocations} revocations (${stats.revocationChecks} post-revocation checks, ${stats.lostRevocations} lost); 1-min load average mean ${load.toFixed(1)}, max ${maxLoad.toFixed(1)}`,
  );
  console.log(
    `[soak] memory (limits for the services: RSS growth < ${TAIL_LIMIT * 100} % over the steady-state window, < ${RSS_LIMIT * 100} % after warm-up; nats-server shown for reference):\n${lines.join('\n')}`,
  );
  if (SAMPLES_FILE) {
    writeFileSync(
      SAMPLES_FILE,
      JSON.stringify({
        minutes,
        rate: RATE,
        warmupMs: WARMUP_MS,
        tailMs: TAIL_MS,
        endT,
        stats: { ...stats, byStatus: Object.fromEntries(stats.byStatus) },
        loads,
        samples,
      }),
    );
    console.log(`[soak] samples written to ${SAMPLES_FILE}`);
  }
  if (stats.unexpected.length)
    console.log(
      `[soak] unexpected outcomes (${stats.unexpected.length}):\n  ${stats.unexpected.slice(0, 20).join('\n  ')}`,
    );
  for (const e of echoes) e.client.close();
  authClient.close();
  const alive = started.every((p) => p.running);
  if (!alive) console.log('[soak] a service process died during the run');
  const ok = !failed && stats.lostRevocations === 0 && stats.unexpected.length === 0 && alive;
  console.log(`[soak] ${ok ? 'PASS' : 'FAIL'}`);
  return ok ? 0 : 1;
}

// The run ends by itself: if the load loop or a shutdown hangs, stop the processes and exit anyway.
setTimeout(
  async () => {
    console.error('[soak] watchdog: the run overran its time by 5 minutes; stopping');
    await Promise.race([stopAll(), new Promise((r) => setTimeout(r, 20_000))]);
    process.exit(3);
  },
  DURATION_MS + 5 * 60_000,
).unref();

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error('[soak] failed:', err);
} finally {
  await stopAll();
}
process.exit(code);
