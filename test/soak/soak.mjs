#!/usr/bin/env node
// Soak: sustained mixed load (password logins, refreshes, client-credentials tokens, WhoAmI calls on two
// echo processes, revocations) against real processes (nats-server, auth, 2 × echo). Every ~30 s it prints
// calls served, outcomes by status, and RSS/heap of each process; at the end, RSS growth after warm-up,
// and it exits non-zero when growth ≥ 10 %, a revoked token still passes after the propagation bound, or
// anything unexpected (INTERNAL, UNKNOWN, a valid token refused) happened.
//
//   npm run soak                 # 10 minutes
//   node test/soak/soak.mjs --minutes 2
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { authGrpc, echoGrpc } from '@authmesh/proto';
import { NatsServer, ServiceProcess, repoRoot } from '@authmesh/testing';

const args = process.argv.slice(2);
const minutesArg = args.indexOf('--minutes');
const minutes = minutesArg >= 0 ? Number(args[minutesArg + 1]) : 10;
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
  console.error('--minutes: must be a number of minutes in (0, 1440]');
  process.exit(2);
}
const DURATION_MS = minutes * 60_000;
// Warm-up: JIT, caches and pools fill; RSS is compared from its end (20 % of the run, 30 s to 2 min).
const WARMUP_MS = Math.min(120_000, Math.max(30_000, DURATION_MS * 0.2));
const REPORT_MS = Math.min(30_000, Math.max(5_000, DURATION_MS / 10));
const CALLERS = 24;
const SESSIONS = 40;
const REVOCATION_BOUND_MS = 2000;
const RSS_LIMIT = 0.1;

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
  let rss = NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
    if (m) rss = Number(m[1]) * 1024;
  } catch {}
  let heap = NaN;
  try {
    heap = JSON.parse(readFileSync(join(memDir, `${proc.pid}.json`), 'utf8')).heapUsed;
  } catch {}
  return { rss, heap };
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
  const auth = await ServiceProcess.start({ name: 'auth', args: ['--import', probe, bin, 'serve'], env });
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
  /** Sessions: { access, refresh, exp, revoked, busy }. */
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
      busy: false,
    });
  };
  for (let i = 0; i < SESSIONS; i++) await login();

  const t0 = Date.now();
  const end = t0 + DURATION_MS;
  const running = () => Date.now() < end;
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
      const r = await unary(echo, 'WhoAmI', {}, token);
      stats.calls++;
      count('WhoAmI', r.code);
      if (r.code === 0) stats.ok++;
      // A refusal is fine only for a token revoked meanwhile (or replaced by a refresh that raced).
      else if (!(r.code === grpc.status.UNAUTHENTICATED && (s.revoked || s.access !== token)))
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
      const sid = claimsOf(s.access).sid;
      let r = await unary(authClient, 'Revoke', { session_id: sid, reason: 'soak' }, admin);
      if (r.code === grpc.status.UNAUTHENTICATED) {
        admin = await adminToken();
        r = await unary(authClient, 'Revoke', { session_id: sid, reason: 'soak' }, admin);
      }
      count('Revoke', r.code);
      if (r.code !== 0) {
        s.busy = false;
        unexpected('Revoke', r);
        continue;
      }
      s.revoked = true;
      stats.revocations++;
      sessions.splice(sessions.indexOf(s), 1);
      await login();
      // After the propagation bound, the revoked session's token and refresh token must be dead everywhere.
      setTimeout(async () => {
        for (const e of echoes) {
          const w = await unary(e.client, 'WhoAmI', {}, s.access);
          stats.revocationChecks++;
          if (w.code !== grpc.status.UNAUTHENTICATED) stats.lostRevocations++;
        }
        const rr = await unary(authClient, 'Refresh', { refresh_token: s.refresh });
        stats.revocationChecks++;
        if (rr.code === 0) stats.lostRevocations++;
      }, REVOCATION_BOUND_MS);
    }
  }

  // RSS/heap samples per process: [{t, rss, heap}]
  const samples = Object.fromEntries(procs.map(([n]) => [n, []]));
  const sampler = setInterval(() => {
    for (const [name, proc] of procs) if (proc) samples[name].push({ t: Date.now() - t0, ...memory(proc) });
  }, 2000);
  let lastCalls = 0;
  let lastT = t0;
  const report = () => {
    const now = Date.now();
    const rate = ((stats.calls - lastCalls) / ((now - lastT) / 1000)).toFixed(0);
    lastCalls = stats.calls;
    lastT = now;
    const mem = procs
      .map(([n, p]) =>
        p ? `${n} rss ${mb(memory(p).rss)} MB${n === 'nats' ? '' : ` heap ${mb(memory(p).heap)} MB`}` : '',
      )
      .join(' | ');
    const codes = [...stats.byStatus].map(([k, v]) => `${k} ${v}`).join(', ');
    console.log(
      `[soak ${((now - t0) / 1000).toFixed(0)} s] calls ${stats.calls} (${rate}/s, ok ${stats.ok}) logins ${stats.logins} refreshes ${stats.refreshes} cc-tokens ${stats.clientTokens} revocations ${stats.revocations} lost ${stats.lostRevocations} unexpected ${stats.unexpected.length}\n    statuses: ${codes}\n    memory: ${mem}`,
    );
  };
  const reporter = setInterval(report, REPORT_MS);
  console.log(
    `[soak] ${minutes} min, warm-up ${WARMUP_MS / 1000} s, ${CALLERS} callers on 2 echoes, ${SESSIONS} sessions, access TTL 60 s`,
  );
  await Promise.all([
    ...Array.from({ length: CALLERS }, (_, i) => caller(i)),
    refresher(),
    clientTokens(),
    revoker(),
  ]);
  await new Promise((r) => setTimeout(r, REVOCATION_BOUND_MS + 1000));
  clearInterval(sampler);
  clearInterval(reporter);
  report();

  // RSS growth: mean of the first 30 s after warm-up vs mean of the last 30 s.
  let failed = false;
  const lines = [];
  for (const [name] of procs) {
    const s = samples[name].filter((x) => Number.isFinite(x.rss));
    const after = s.filter((x) => x.t >= WARMUP_MS);
    const head = after.filter((x) => x.t < WARMUP_MS + 30_000);
    const tail = after.filter((x) => x.t >= DURATION_MS - 30_000);
    if (head.length === 0 || tail.length === 0) continue;
    const mean = (a, k) => a.reduce((n, x) => n + x[k], 0) / a.length;
    const growth = mean(tail, 'rss') / mean(head, 'rss') - 1;
    const peak = Math.max(...s.map((x) => x.rss));
    const heapText = name === 'nats' ? '' : `, heap ${mb(mean(head, 'heap'))} → ${mb(mean(tail, 'heap'))} MB`;
    lines.push(
      `  ${name}: RSS ${mb(mean(head, 'rss'))} → ${mb(mean(tail, 'rss'))} MB (${(growth * 100).toFixed(1)} %, peak ${mb(peak)} MB)${heapText}`,
    );
    if (name !== 'nats' && growth >= RSS_LIMIT) failed = true;
  }
  const secs = (Date.now() - t0) / 1000;
  console.log(
    `[soak] done: ${stats.calls} calls in ${secs.toFixed(0)} s (${(stats.calls / secs).toFixed(0)}/s), ${stats.logins} logins, ${stats.refreshes} refreshes, ${stats.clientTokens} client tokens, ${stats.revocations} revocations (${stats.revocationChecks} post-revocation checks, ${stats.lostRevocations} lost)`,
  );
  console.log(
    `[soak] RSS growth after warm-up (limit ${RSS_LIMIT * 100} % for the services; nats-server shown for reference):\n${lines.join('\n')}`,
  );
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

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error('[soak] failed:', err);
} finally {
  await stopAll();
}
process.exit(code);
