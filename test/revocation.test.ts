import * as grpc from '@grpc/grpc-js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServiceClient, type EchoClient, type TokenResponse__Output } from '@authmesh/proto';
import { NatsServer, type ServiceProcess } from '@authmesh/testing';
import { runCli, startAuthService, startEchoService, testAuthEnv, unary } from './support/mesh.js';
import { addClients } from './support/mesh-suite.js';

// Revocation end to end, with real processes: the auth service (CLI-provisioned), three echo instances,
// one real nats-server. Services run from dist: build first (`npm test` does).
const ISSUER = 'http://auth.revocation.test';
const UNAUTHENTICATED = grpc.status.UNAUTHENTICATED;

let nats: NatsServer;
let auth: ServiceProcess;
let authClient: AuthServiceClient;
const echoes: Array<{ proc: ServiceProcess; client: EchoClient }> = [];
let env: Record<string, string>;
const secrets: Record<string, string> = {};
/** ms from Revoke's (or Refresh's) return until an echo instance rejected the token, one per instance and revocation. */
const latencies: Record<string, number[]> = {};

const cli = (args: string[], stdin = '') => runCli(env, args, stdin);

/** A unary AuthService call (5 s deadline); rejects with the grpc.ServiceError. */
const authCall = <Res>(method: keyof AuthServiceClient, req: object, token?: string) =>
  unary<Res>(authClient, method, req, token, 5000);
const login = (username: string) =>
  authCall<TokenResponse__Output>('IssueToken', {
    password: { username, password: `pw-${username}` },
    audience: ['echo'],
  });
const clientToken = (client_id: string, audience: string[] = []) =>
  authCall<TokenResponse__Output>('IssueToken', {
    client_credentials: { client_id, client_secret: secrets[client_id]! },
    audience,
  });
const revoke = (req: object, adminToken: string) =>
  authCall<{ kind: string; at: number; sequence: number }>('Revoke', { ...req, reason: 'e2e' }, adminToken);

/** WhoAmI at one echo instance: the gRPC status code (0 = OK). */
async function whoAmI(i: number, token: string): Promise<number> {
  const e = echoes[i]!;
  try {
    await unary(e.client, 'WhoAmI', {}, token, 5000);
    return 0;
  } catch (err) {
    return (err as grpc.ServiceError).code;
  }
}

async function expectAccepted(token: string, instances = [0, 1, 2]): Promise<void> {
  for (const i of instances) expect(await whoAmI(i, token), `echo ${i} should accept`).toBe(0);
}

/**
 * Polls every instance (in parallel, each in a tight loop) until it rejects `token`; returns the ms
 * from `t0` (when Revoke returned) to the first rejection at each. Bounded: 5 s per instance.
 */
async function rejectionTimes(token: string, t0: number, instances = [0, 1, 2]): Promise<number[]> {
  return Promise.all(
    instances.map(async (i) => {
      for (;;) {
        const code = await whoAmI(i, token);
        const dt = performance.now() - t0;
        if (code === UNAUTHENTICATED) return dt;
        expect(code, `echo ${i}: unexpected status`).toBe(0);
        if (dt > 5000)
          throw new Error(`echo ${i} still accepts the token ${dt.toFixed(0)} ms after the revocation`);
      }
    }),
  );
}

function record(kind: string, times: number[]): void {
  (latencies[kind] ??= []).push(...times);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function startEcho(): Promise<void> {
  echoes.push(
    await startEchoService({
      name: `echo-${echoes.length}`,
      issuer: ISSUER,
      authTarget: auth.grpc,
      natsUrl: nats.url,
    }),
  );
}

beforeAll(async () => {
  nats = await NatsServer.start();
  env = testAuthEnv(nats.url, ISSUER);
  for (const name of ['alice', 'carol', 'dave', 'erin']) {
    const r = await cli(
      ['user', 'add', name, '--roles', 'reader', '--scopes', 'a', '--audiences', 'echo'],
      `pw-${name}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
  }
  Object.assign(
    secrets,
    await addClients(env, {
      admin: ['--scopes', 'authmesh:admin'],
      svc: ['--scopes', 'x', '--audiences', 'echo'],
    }),
  );
  ({ proc: auth, client: authClient } = await startAuthService(env));
  await Promise.all([startEcho(), startEcho(), startEcho()]);
}, 90_000);

afterAll(async () => {
  const rows = Object.entries(latencies).map(([kind, xs]) => ({
    kind,
    n: xs.length,
    p50_ms: +pct(xs, 50).toFixed(1),
    p99_ms: +pct(xs, 99).toFixed(1),
    max_ms: +Math.max(...xs).toFixed(1),
  }));
  if (rows.length) {
    const all = Object.values(latencies).flat();
    console.log('[revocation e2e] time from Revoke returning to rejection at an echo instance');
    console.table([
      ...rows,
      {
        kind: 'ALL',
        n: all.length,
        p50_ms: +pct(all, 50).toFixed(1),
        p99_ms: +pct(all, 99).toFixed(1),
        max_ms: +Math.max(...all).toFixed(1),
      },
    ]);
  }
  (authClient as unknown as grpc.Client | undefined)?.close();
  for (const e of echoes) (e.client as unknown as grpc.Client).close();
  await Promise.all(echoes.map((e) => e.proc.stop()));
  await auth?.stop();
  await nats?.stop();
});

describe("the auth service's guard and the events it published itself", () => {
  it('applies its own events without a signature check, yet refuses a forgery reusing their signature', async () => {
    const admin = (await clientToken('admin')).access_token;
    const victim = (await clientToken('admin')).access_token;
    const marker = (await clientToken('admin')).access_token;
    const { sequence } = await revoke({ jti: 'forgery-template' }, admin);
    const nc = await connect({ servers: nats.url });
    try {
      const js = nc.jetstream();
      const stored = await (
        await nc.jetstreamManager()
      ).streams.getMessage('AUTHMESH_REVOCATIONS', {
        seq: sequence,
      });
      const [header, payload, signature] = new TextDecoder().decode(stored.data).split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
      // The auth process's own header and signature, over a payload revoking another admin's token.
      const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, value: decodeJwt(victim).jti })).toString('base64url')}.${signature}`;
      await js.publish('authmesh.revoked.jti', new TextEncoder().encode(forged));
    } finally {
      await nc.close();
    }
    // A genuine revocation published after the forgery: once the guard enforces it, it has seen the forgery.
    await revoke({ jti: decodeJwt(marker).jti }, admin);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const code = await revoke({ jti: 'probe' }, marker).then(
        () => 0,
        (err: grpc.ServiceError) => err.code,
      );
      if (code === UNAUTHENTICATED) break;
      expect(code, 'the marker token: unexpected status').toBe(0);
      if (Date.now() > deadline) throw new Error('the auth guard never applied the marker revocation');
    }
    await revoke({ jti: 'still-an-admin' }, victim);
  });
});

describe('revocations reach every echo instance', () => {
  const revokedEarlier: string[] = [];

  it('jti: a revoked access token is rejected at all three instances within milliseconds', async () => {
    const admin = (await clientToken('admin')).access_token;
    for (let round = 0; round < 15; round++) {
      const token = (await clientToken('svc', ['echo'])).access_token;
      await expectAccepted(token); // cached as verified at every instance: the epoch re-check must catch it
      await revoke({ jti: decodeJwt(token).jti }, admin);
      const t0 = performance.now();
      record('jti', await rejectionTimes(token, t0));
      if (round === 0) revokedEarlier.push(token);
    }
    const other = (await clientToken('svc', ['echo'])).access_token;
    await expectAccepted(other);
  });

  it('session: revoking a session rejects its access tokens everywhere', async () => {
    const admin = (await clientToken('admin')).access_token;
    const res = await login('alice');
    const sid = decodeJwt(res.access_token).sid as string;
    expect(sid).toBeTruthy();
    await expectAccepted(res.access_token);
    await revoke({ session_id: sid }, admin);
    record('sid', await rejectionTimes(res.access_token, performance.now()));
    revokedEarlier.push(res.access_token);
    await expect(authCall('Refresh', { refresh_token: res.refresh_token })).rejects.toMatchObject({
      code: UNAUTHENTICATED,
    });
  });

  it('refresh-token reuse kills the session’s live tokens everywhere', async () => {
    const first = await login('alice');
    const second = await authCall<TokenResponse__Output>('Refresh', { refresh_token: first.refresh_token });
    // The successor is used: from now on the first token is only reuse (no retry grace any more).
    const third = await authCall<TokenResponse__Output>('Refresh', { refresh_token: second.refresh_token });
    await expectAccepted(third.access_token);
    await expectAccepted(first.access_token);
    // Replaying the rotated refresh token: refused, and the whole family is revoked and broadcast.
    await expect(authCall('Refresh', { refresh_token: first.refresh_token })).rejects.toMatchObject({
      code: UNAUTHENTICATED,
    });
    const t0 = performance.now();
    record('refresh-reuse', await rejectionTimes(third.access_token, t0));
    for (const i of [0, 1, 2]) {
      expect(await whoAmI(i, first.access_token)).toBe(UNAUTHENTICATED);
      expect(await whoAmI(i, second.access_token)).toBe(UNAUTHENTICATED);
    }
    await expect(authCall('Refresh', { refresh_token: third.refresh_token })).rejects.toMatchObject({
      code: UNAUTHENTICATED,
    });
  });

  it('subject: tokens of that subject issued before the revocation are rejected, others pass', async () => {
    const admin = (await clientToken('admin')).access_token;
    const carol = (await login('carol')).access_token;
    const dave = (await login('dave')).access_token;
    await expectAccepted(carol);
    await revoke({ subject: 'carol' }, admin);
    record('sub', await rejectionTimes(carol, performance.now()));
    await expectAccepted(dave);
    revokedEarlier.push(carol);
  });

  it('a login in the same second as a subject revocation is not born revoked (its iat is after it)', async () => {
    const admin = (await clientToken('admin')).access_token;
    // `sub` revokes tokens with iat <= at in whole seconds: start just after a second begins, so the
    // revocation and the login below fall in the same second.
    await new Promise((r) => setTimeout(r, 1020 - (Date.now() % 1000)));
    const own = await revoke({ subject: 'erin' }, admin);
    const first = (await login('erin')).access_token;
    expect(decodeJwt(first).iat).toBeGreaterThan(own.at);
    await expectAccepted(first);
    // The CLI publishes on its own; the auth service learns of it through its revocation feed.
    const cliRun = await cli(['revoke', '--subject', 'erin', '--reason', 'e2e']);
    expect(cliRun.code, cliRun.stderr).toBe(0);
    const { at } = JSON.parse(cliRun.stdout.trim().split('\n').pop()!) as { at: number };
    await new Promise((r) => setTimeout(r, 100));
    const second = (await login('erin')).access_token;
    expect(decodeJwt(second).iat).toBeGreaterThan(at);
    await expectAccepted(second);
  });

  it('an echo started after the revocations replays and enforces them', async () => {
    await startEcho();
    const late = echoes.length - 1;
    for (const token of revokedEarlier) expect(await whoAmI(late, token)).toBe(UNAUTHENTICATED);
    await expectAccepted((await login('dave')).access_token, [late]);
  });

  it('key: revoking a key rejects every token it signed; new tokens use the next key', async () => {
    const admin = (await clientToken('admin')).access_token;
    const token = (await login('dave')).access_token;
    const kid = decodeProtectedHeader(token).kid!;
    await expectAccepted(token);
    await revoke({ key_id: kid }, admin);
    record('kid', await rejectionTimes(token, performance.now(), [0, 1, 2, 3]));
    const fresh = (await login('dave')).access_token;
    expect(decodeProtectedHeader(fresh).kid).not.toBe(kid);
    await expectAccepted(fresh, [0, 1, 2, 3]);
  });

  it('all: every token issued before now is rejected everywhere; later ones pass', async () => {
    const admin = (await clientToken('admin')).access_token;
    const tokens = [(await login('dave')).access_token, (await clientToken('svc', ['echo'])).access_token];
    for (const t of tokens) await expectAccepted(t);
    await revoke({ all: true }, admin);
    const t0 = performance.now();
    for (const times of await Promise.all(tokens.map((t) => rejectionTimes(t, t0, [0, 1, 2, 3]))))
      record('all', times);
    // `all` rejects iat <= at (whole seconds): a token from the next second on is fine.
    await new Promise((r) => setTimeout(r, 1100));
    await expectAccepted((await login('dave')).access_token, [0, 1, 2, 3]);
  });
});
