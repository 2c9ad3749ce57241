import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServiceClient, type EchoClient, type TokenResponse__Output } from '@authmesh/proto';
import { NatsServer, type ServiceProcess } from '@authmesh/testing';
import { call, startAuthService, startEchoService, testAuthEnv } from './support/mesh.js';
import { addClients } from './support/mesh-suite.js';

// NATS outage with real processes: the revocation feed goes stale (reject → UNAVAILABLE, allow → serve),
// recovers when NATS returns, and a revocation published right after the restart is enforced (no gap).
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

/** Every unary call here is bounded to 3 s (support/mesh `call`: resolves with the status, never rejects). */
const deadline = { deadlineMs: 3000 };

async function issue(req: object): Promise<TokenResponse__Output> {
  const r = await call(authClient, 'IssueToken', req, undefined, deadline);
  expect(r.code).toBe(0);
  return r.res as TokenResponse__Output;
}
const svcToken = async () =>
  (await issue({ client_credentials: { client_id: 'svc', client_secret: svcSecret }, audience: ['echo'] }))
    .access_token;
const adminToken = async () =>
  (await issue({ client_credentials: { client_id: 'admin', client_secret: adminSecret } })).access_token;
/** Revoke by jti with the admin token; the status code (0 = OK). */
const revoke = async (jti: string | undefined, reason: string, admin: string) =>
  (await call(authClient, 'Revoke', { jti, reason }, admin, deadline)).code;
const whoAmI = async (which: 'reject' | 'allow', token: string) =>
  (await call(echoes[which]!.client, 'WhoAmI', {}, token, deadline)).code;

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
  echoes[policy] = await startEchoService({
    name: `echo-${policy}`,
    issuer: ISSUER,
    authTarget: auth.grpc,
    natsUrl: nats.url,
    env: {
      AUTHMESH_MAX_STALENESS_MS: String(MAX_STALENESS_MS),
      AUTHMESH_STALE_POLICY: policy,
    },
  });
}

beforeAll(async () => {
  nats = await NatsServer.start();
  env = testAuthEnv(nats.url, ISSUER);
  ({ admin: adminSecret, svc: svcSecret } = await addClients(env, {
    admin: ['--scopes', 'authmesh:admin'],
    svc: ['--scopes', 'x', '--audiences', 'echo'],
  }));
  ({ proc: auth, client: authClient } = await startAuthService(env));
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
    expect(await revoke(decodeJwt(revokedBefore).jti, 'before outage', admin)).toBe(0);
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
      revokeCode = await revoke(decodeJwt(token).jti, 'after outage', admin);
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
