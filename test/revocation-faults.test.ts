import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authGrpc,
  echoGrpc,
  type AuthServiceClient,
  type EchoClient,
  type TokenResponse__Output,
} from '@authmesh/proto';
import { NatsServer, repoRoot, ServiceProcess } from '@authmesh/testing';

// NATS outage with real processes: the revocation feed goes stale (reject → UNAVAILABLE, allow → serve),
// recovers when NATS returns, and a revocation published right after the restart is enforced (no gap).
const bin = join(repoRoot, 'services/auth/bin/authmesh.js');
const echoMain = join(repoRoot, 'services/echo/dist/main.js');
const ISSUER = 'http://auth.revocation-faults.test';
const MAX_STALENESS_MS = 1500;

let nats: NatsServer;
let auth: ServiceProcess;
let authClient: AuthServiceClient;
let env: Record<string, string>;
let adminSecret = '';
let svcSecret = '';
const echoes: Record<'reject' | 'allow', { proc: ServiceProcess; client: EchoClient } | undefined> = {
  reject: undefined,
  allow: undefined,
};

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end();
  });
}

type Unary = (
  req: object,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => unknown;

/** A unary call; resolves with the status code (0 = OK) and the response. */
function call(
  client: unknown,
  method: unknown,
  req: object,
  token?: string,
): Promise<{ code: number; res?: unknown }> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) =>
    (method as Unary).call(client, req, md, { deadline: Date.now() + 3000 }, (err, res) =>
      resolve(err ? { code: err.code } : { code: 0, res }),
    ),
  );
}

async function issue(req: object): Promise<TokenResponse__Output> {
  const r = await call(authClient, authClient.IssueToken, req);
  expect(r.code).toBe(0);
  return r.res as TokenResponse__Output;
}
const svcToken = async () =>
  (await issue({ client_credentials: { client_id: 'svc', client_secret: svcSecret }, audience: ['echo'] }))
    .access_token;
const adminToken = async () =>
  (await issue({ client_credentials: { client_id: 'admin', client_secret: adminSecret } })).access_token;
const whoAmI = async (which: 'reject' | 'allow', token: string) =>
  (await call(echoes[which]!.client, echoes[which]!.client.WhoAmI, {}, token)).code;

/** Polls until `f()` returns `want`; returns the ms it took. Bounded in time. */
async function until(f: () => Promise<number>, want: number, ms: number, what: string): Promise<number> {
  const t0 = performance.now();
  let last = -1;
  while (performance.now() - t0 < ms) {
    last = await f();
    if (last === want) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: still status ${last} after ${ms} ms (wanted ${want})`);
}

async function startEcho(policy: 'reject' | 'allow'): Promise<void> {
  const proc = await ServiceProcess.start({
    name: `echo-${policy}`,
    args: [echoMain],
    env: {
      ECHO_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_AUDIENCE: 'echo',
      AUTHMESH_ISSUER: ISSUER,
      AUTHMESH_AUTH_TARGET: auth.grpc,
      NATS_URL: nats.url,
      AUTHMESH_MAX_STALENESS_MS: String(MAX_STALENESS_MS),
      AUTHMESH_STALE_POLICY: policy,
    },
  });
  const { Echo } = echoGrpc().echo.v1;
  echoes[policy] = {
    proc,
    client: new Echo(proc.grpc, grpc.credentials.createInsecure()) as unknown as EchoClient,
  };
}

beforeAll(async () => {
  nats = await NatsServer.start();
  env = {
    NATS_URL: nats.url,
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_ISSUER: ISSUER,
    AUTHMESH_KEK: randomBytes(32).toString('base64url'),
    AUTHMESH_SCRYPT_N: '1024',
    AUTHMESH_KEY_ROTATION_INTERVAL: '0',
  };
  for (const [id, args] of [
    ['admin', ['--scopes', 'authmesh:admin']],
    ['svc', ['--scopes', 'x', '--audiences', 'echo']],
  ] as const) {
    const r = await cli(['client', 'add', id, ...args]);
    expect(r.code, r.stderr).toBe(0);
    const secret = (JSON.parse(r.stdout.trim().split('\n').pop()!) as { client_secret: string })
      .client_secret;
    if (id === 'admin') adminSecret = secret;
    else svcSecret = secret;
  }
  auth = await ServiceProcess.start({ name: 'auth', args: [bin, 'serve'], env });
  const { AuthService } = authGrpc().authmesh.v1;
  authClient = new AuthService(auth.grpc, grpc.credentials.createInsecure()) as unknown as AuthServiceClient;
  await Promise.all([startEcho('reject'), startEcho('allow')]);
}, 90_000);

afterAll(async () => {
  (authClient as unknown as grpc.Client | undefined)?.close();
  for (const e of Object.values(echoes)) (e?.client as unknown as grpc.Client | undefined)?.close();
  await Promise.all(Object.values(echoes).map((e) => e?.proc.stop()));
  await auth?.stop();
  await nats?.stop();
});

describe('revocation feed through a NATS outage (real processes)', () => {
  it('goes stale when NATS dies (reject → UNAVAILABLE, allow → served), recovers, and misses no revocation', async () => {
    const admin = await adminToken();
    const token = await svcToken();
    const revokedBefore = await svcToken();
    expect(await whoAmI('reject', token)).toBe(0);
    expect(await whoAmI('allow', token)).toBe(0);
    expect(
      (
        await call(
          authClient,
          authClient.Revoke,
          { jti: decodeJwt(revokedBefore).jti, reason: 'before outage' },
          admin,
        )
      ).code,
    ).toBe(0);
    // Acked before Revoke returned, so the outage cannot lose it.
    nats.kill();
    const staleMs = await until(
      () => whoAmI('reject', token),
      grpc.status.UNAVAILABLE,
      10_000,
      'reject policy during outage',
    );
    console.log(
      `[revocation faults] echo (reject) answered UNAVAILABLE ${staleMs.toFixed(0)} ms after the NATS kill (bound ${MAX_STALENESS_MS} ms)`,
    );
    expect(await whoAmI('allow', token)).toBe(0);
    expect(await whoAmI('allow', revokedBefore)).toBe(grpc.status.UNAUTHENTICATED);

    await nats.restart();
    const t0 = performance.now();
    // The first revocation the auth service can make after the restart, maybe before the echoes reconnected.
    const revokedAfter = await svcToken().catch(() => undefined);
    let revokeCode = -1;
    const interim = new Set<number>();
    while (revokeCode !== 0 && performance.now() - t0 < 15_000) {
      revokeCode = (
        await call(
          authClient,
          authClient.Revoke,
          { jti: decodeJwt(token).jti, reason: 'after outage' },
          admin,
        )
      ).code;
      interim.add(revokeCode);
      if (revokeCode !== 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(revokeCode).toBe(0);
    console.log(
      `[revocation faults] first Revoke after the restart acked ${(performance.now() - t0).toFixed(0)} ms after it (statuses seen: ${[...interim].join(',')})`,
    );
    for (const which of ['reject', 'allow'] as const) {
      const ms = await until(
        () => whoAmI(which, token),
        grpc.status.UNAUTHENTICATED,
        15_000,
        `${which}: revocation after restart`,
      );
      console.log(
        `[revocation faults] echo (${which}) enforces the post-restart revocation ${ms.toFixed(0)} ms after Revoke returned`,
      );
      expect(await whoAmI(which, revokedBefore)).toBe(grpc.status.UNAUTHENTICATED);
    }
    const fresh = revokedAfter ?? (await svcToken());
    await until(() => whoAmI('reject', fresh), 0, 10_000, 'reject policy current again');
  });
});
