#!/usr/bin/env node
// Issuance throughput end to end: client_credentials IssueToken over gRPC against the auth service as its
// own process, with a real nats-server. Build first (`npm run build`). Prints one JSON line of figures.
// Usage: node services/auth/scripts/issue-throughput.mjs [seconds=5] [inflight=64] [channels=2]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { authGrpc, authPackageDefinition } from '@authmesh/proto';
import { NatsServer, ServiceProcess, repoRoot } from '@authmesh/testing';

/** CPU time (user + system) of a process so far, ms (Linux /proc; NaN elsewhere). */
function procCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}

const [seconds = 5, inflight = 64, channels = 2] = process.argv.slice(2).map(Number);
// AUTH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the service.
const nodeArgs = process.env.AUTH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
const bin = `${repoRoot}services/auth/bin/authmesh.js`;
const secret = randomBytes(32).toString('base64url');
const nats = await NatsServer.start();
const env = {
  NATS_URL: nats.url,
  AUTHMESH_KEK: randomBytes(32).toString('base64url'),
  AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
  AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
  LOG_LEVEL: 'warn',
};
let auth;
try {
  auth = await ServiceProcess.start({ args: [...nodeArgs, bin, 'serve'], env, name: 'auth' });
  await new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [bin, 'client', 'add', 'bench', '--scopes', 's', '--audiences', 'echo', '--secret-stdin'],
      {
        env: { ...process.env, ...env },
        stdio: ['pipe', 'ignore', 'inherit'],
      },
    );
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`client add exited ${code}`))));
    p.stdin.end(secret);
  });
  const { AuthService } = authGrpc().authmesh.v1;
  const clients = Array.from(
    { length: channels },
    () => new AuthService(auth.grpc, grpc.credentials.createInsecure()),
  );
  const request = {
    client_credentials: { client_id: 'bench', client_secret: secret },
    audience: ['echo'],
    scope: ['s'],
  };
  const call = (c) =>
    new Promise((resolve, reject) => c.IssueToken(request, (err, r) => (err ? reject(err) : resolve(r))));
  for (let i = 0; i < 500; i++) await call(clients[i % channels]); // warm-up
  let done = 0;
  let failed = 0;
  const latencies = [];
  const end = Date.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const serverCpu0 = procCpuMs(auth.proc.pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inflight }, async (_, i) => {
      const c = clients[i % channels];
      while (Date.now() < end) {
        const s = performance.now();
        try {
          await call(c);
          done++;
          if (done % 16 === 0) latencies.push(performance.now() - s);
        } catch {
          failed++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpuMs = procCpuMs(auth.proc.pid) - serverCpu0;
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(2);
  console.log(
    JSON.stringify({
      tokens_per_s: Math.round(done / elapsed),
      failed,
      inflight,
      channels,
      p50_ms: q(0.5),
      p99_ms: q(0.99),
      client_cpu_us_per_call: Math.round((cpu.user + cpu.system) / done),
      server_cpu_us_per_call: Number.isNaN(serverCpuMs) ? undefined : Math.round((serverCpuMs * 1000) / done),
    }),
  );
  for (const c of clients) c.close();
  await h2loadView(auth, request);
} finally {
  await auth?.stop();
  await nats.stop();
}

/**
 * The server's own ceiling: h2load (nghttp2-client) drives the same unary call with far less client CPU
 * than grpc-js. Skipped when h2load is not installed. h2load counts HTTP 200s; gRPC errors are 200 too,
 * so the grpc-js run above (0 failures with the same request) is what shows the request is valid.
 */
async function h2loadView(auth, request) {
  const target = auth.grpc;
  const which = spawnSync('sh', ['-c', 'command -v h2load'], { encoding: 'utf8' }).stdout.trim();
  if (!which)
    return console.log(JSON.stringify({ h2load: 'not installed (apt-get install nghttp2-client)' }));
  const message = authPackageDefinition()['authmesh.v1.AuthService'].IssueToken.requestSerialize(request);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  const dir = mkdtempSync(join(tmpdir(), 'authmesh-issue-'));
  try {
    const body = join(dir, 'body.bin');
    writeFileSync(body, Buffer.concat([head, message]));
    const args = [
      '-c1',
      '-t1',
      `-m${inflight}`,
      `-D${seconds}`,
      '--warm-up-time=1',
      '-d',
      body,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      `http://${target}/authmesh.v1.AuthService/IssueToken`,
    ];
    const minted0 = await mintedCount(auth);
    const r = spawnSync(which, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
    const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(r.stdout)?.[1];
    const ok = /(\d+) succeeded/.exec(r.stdout)?.[1];
    // minted_by_server includes the warm-up second; it must be at least `succeeded`.
    const minted = (await mintedCount(auth)) - minted0;
    const view = {
      h2load_tokens_per_s: Math.round(Number(rate)),
      succeeded: Number(ok),
      minted_by_server: minted,
      inflight,
    };
    console.log(JSON.stringify(view));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Tokens the service signed so far, from its /metrics (proves h2load's 200s were real issuances). */
async function mintedCount(auth) {
  const text = await (await fetch(`http://${auth.http}/metrics`)).text();
  return [...text.matchAll(/^authmesh_tokens_issued_total\{[^}]*\} (\d+)/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}
