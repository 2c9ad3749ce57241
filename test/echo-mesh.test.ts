// The whole mesh as real processes: nats-server, the auth service (plus a second replica issuing
// 1-second tokens, for the expiry case), and two echo instances (audiences `echo` and `echo-b`).
// Each row of the contract's status table, Relay's delegation, key rotation under traffic, and echo
// verifying on its own once the auth service is gone.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc, echoGrpc, type AuthServiceClient, type EchoClient } from '@authmesh/proto';
import { authInterceptor, passwordSource, type TokenSource } from '@authmesh/interceptor';
import { NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, echoMain, runCli, unary } from './support/mesh.js';

const insecure = grpc.credentials.createInsecure();
const relaySecret = randomBytes(32).toString('base64url');
const testerSecret = randomBytes(32).toString('base64url');
const alicePassword = 'alice-' + randomBytes(8).toString('hex');

let nats: NatsServer;
let auth: ServiceProcess;
let authShort: ServiceProcess;
let echo: ServiceProcess;
let echoB: ServiceProcess;
let authClient: AuthServiceClient;
let shortClient: AuthServiceClient;
let echoClient: EchoClient;
let echoBClient: EchoClient;
let baseEnv: Record<string, string>;
let expiredSoon: { token: string; obtainedAt: number };

/** The CLI with `baseEnv`; rejects unless it exits 0. */
async function cli(args: string[], input: string): Promise<void> {
  const r = await runCli(baseEnv, args, input);
  if (r.code !== 0) throw new Error(`authmesh ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
}

/** A unary call with a 5 s deadline; rejects with the grpc.ServiceError. */
const rpc = <T = Record<string, unknown>>(client: unknown, method: string, req: object, token?: string) =>
  unary<T>(client, method, req, token, 5000);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (e: grpc.ServiceError) => e.code,
  );
const kidOf = (t: string) =>
  (JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

const login = (c: AuthServiceClient = authClient, scope: string[] = []) =>
  rpc<{ access_token: string; refresh_token: string }>(c, 'IssueToken', {
    password: { username: 'alice', password: alicePassword },
    audience: ['echo'],
    scope,
  });
const tester = () =>
  rpc<{ access_token: string }>(authClient, 'IssueToken', {
    client_credentials: { client_id: 'tester', client_secret: testerSecret },
    audience: ['echo'],
  });

const startAuth = (extra: Record<string, string> = {}) =>
  ServiceProcess.start({ name: 'auth', args: [authBin, 'serve'], env: { ...baseEnv, ...extra } });
const startEcho = (audience: string, issuer: string) =>
  ServiceProcess.start({
    name: `echo ${audience}`,
    args: [echoMain],
    env: {
      ...baseEnv,
      ECHO_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_AUDIENCE: audience,
      AUTHMESH_ISSUER: issuer,
      AUTHMESH_AUTH_TARGET: auth.grpc,
      AUTHMESH_CLIENT_ID: 'echo-relay',
      AUTHMESH_CLIENT_SECRET: relaySecret,
    },
  });

beforeAll(async () => {
  nats = await NatsServer.start();
  baseEnv = {
    NATS_URL: nats.url,
    AUTHMESH_ENV: 'development',
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_SCRYPT_N: '1024',
    // One issuer name for both replicas (otherwise each names itself after its own HTTP port).
    AUTHMESH_ISSUER: 'http://authmesh.test',
  };
  auth = await startAuth();
  await Promise.all([
    cli(
      [
        'user',
        'add',
        'alice',
        '--roles',
        'dev',
        '--scopes',
        'echo:read,echo:admin',
        '--audiences',
        'echo,echo-b',
      ],
      alicePassword + '\n',
    ),
    cli(
      ['user', 'add', 'mallory', '--roles', 'dev', '--scopes', 'echo:read', '--audiences', 'echo'],
      'mallory-password\n',
    ),
    cli(
      [
        'client',
        'add',
        'echo-relay',
        '--scopes',
        'authmesh:exchange',
        '--audiences',
        'echo,echo-b',
        '--serves',
        'echo,echo-b',
        '--secret-stdin',
      ],
      relaySecret + '\n',
    ),
    cli(
      ['client', 'add', 'tester', '--scopes', 'echo:read', '--audiences', 'echo', '--secret-stdin'],
      testerSecret + '\n',
    ),
  ]);
  const issuer = String(auth.listening.issuer ?? baseEnv.AUTHMESH_ISSUER);
  [authShort, echo, echoB] = await Promise.all([
    startAuth({ AUTHMESH_ACCESS_TTL: '1' }),
    startEcho('echo', issuer),
    startEcho('echo-b', issuer),
  ]);
  authClient = new (authGrpc().authmesh.v1.AuthService)(auth.grpc, insecure);
  shortClient = new (authGrpc().authmesh.v1.AuthService)(authShort.grpc, insecure);
  echoClient = new (echoGrpc().echo.v1.Echo)(echo.grpc, insecure);
  echoBClient = new (echoGrpc().echo.v1.Echo)(echoB.grpc, insecure);
  // A 1-second token now, checked at the end of the file, past expiry + the verifier's 5 s tolerance.
  expiredSoon = { token: (await login(shortClient)).access_token, obtainedAt: Date.now() };
}, 60_000);

afterAll(async () => {
  for (const c of [authClient, shortClient, echoClient, echoBClient]) c?.close();
  await Promise.all([echo?.stop(), echoB?.stop(), auth?.stop(), authShort?.stop()]);
  await nats?.stop();
});

describe('echo mesh: the contract status table', () => {
  it('no token, malformed, bad signature, wrong audience → UNAUTHENTICATED', async () => {
    const { access_token: t } = await login();
    expect(await codeOf(rpc(echoClient, 'WhoAmI', {}, t))).toBe(0);
    const [h, p, s] = t.split('.');
    const forged = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const otherClaims = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'root' }),
    ).toString('base64url');
    const codes = await Promise.all([
      codeOf(rpc(echoClient, 'WhoAmI', {})),
      codeOf(rpc(echoClient, 'WhoAmI', {}, 'garbage')),
      codeOf(rpc(echoClient, 'WhoAmI', {}, forged)),
      codeOf(rpc(echoClient, 'WhoAmI', {}, `${h}.${otherClaims}.${s}`)),
      codeOf(rpc(echoBClient, 'WhoAmI', {}, t)),
    ]);
    expect(codes).toEqual([16, 16, 16, 16, 16]);
  });

  it('missing scope → PERMISSION_DENIED', async () => {
    const { access_token: narrow } = await login(authClient, ['echo:read']);
    expect(await codeOf(rpc(echoClient, 'Admin', {}, narrow))).toBe(grpc.status.PERMISSION_DENIED);
    const { access_token: full } = await login();
    expect(await rpc(echoClient, 'Admin', {}, full)).toEqual({ status: 'ok' });
  });

  it('bad auth request → INVALID_ARGUMENT', async () => {
    expect(await codeOf(rpc(authClient, 'IssueToken', { audience: ['echo'] }))).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
    expect(await codeOf(rpc(authClient, 'Refresh', { refresh_token: '' }))).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('repeated failed logins → RESOURCE_EXHAUSTED', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 8 && !codes.includes(grpc.status.RESOURCE_EXHAUSTED); i++) {
      codes.push(
        await codeOf(
          rpc(authClient, 'IssueToken', { password: { username: 'mallory', password: `wrong-${i}` } }),
        ),
      );
    }
    expect(codes[0]).toBe(grpc.status.UNAUTHENTICATED);
    expect(codes).toContain(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('a revoked session is rejected by echo within milliseconds', async () => {
    const { access_token: t } = await login();
    await rpc(echoClient, 'WhoAmI', {}, t);
    const t0 = performance.now();
    // Logout by possession (RFC 7009): no caller token, the token itself is the proof. (Presenting `t` as
    // the caller would be refused: it is meant for echo, not the auth service.)
    await rpc(authClient, 'Revoke', { token: t, reason: 'test' });
    let code = 0;
    for (let i = 0; i < 100 && code === 0; i++) {
      code = await codeOf(rpc(echoClient, 'WhoAmI', {}, t));
      if (code === 0) await new Promise((r) => setTimeout(r, 5));
    }
    console.log(`[echo-mesh] Revoke RPC → rejection at echo: ${(performance.now() - t0).toFixed(1)} ms`);
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
  });
  it('an open StreamWhoAmI ends with UNAUTHENTICATED when its session is revoked', async () => {
    const { access_token: t } = await login();
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${t}`);
    const s = echoClient.StreamWhoAmI({ count: 100, interval_ms: 50 }, md);
    let received = 0;
    const ended = new Promise<number>((res) => {
      s.on('data', () => {
        if (++received === 1) void rpc(authClient, 'Revoke', { token: t, reason: 'stream test' });
      });
      s.on('error', (e: grpc.ServiceError) => res(e.code));
      s.on('end', () => res(0));
    });
    expect(await ended).toBe(grpc.status.UNAUTHENTICATED);
    expect(received).toBeLessThan(20);
    expect(await rpc(echoClient, 'Ping', {})).toEqual({ message: 'pong' });
    // The handler's pending writes after the interceptor ended the call must not surface as errors.
    expect(echo.output).not.toMatch(/"level":(50|60)/);
  });
});

describe('echo mesh: delegation and audiences', () => {
  it('Relay shows the same sub, the downstream audience and the act chain', async () => {
    const { access_token: t } = await login();
    const seen = await rpc<Record<string, unknown>>(
      echoClient,
      'Relay',
      { target: echoB.grpc, audience: 'echo-b' },
      t,
    );
    expect(seen).toMatchObject({
      sub: 'alice',
      aud: ['echo-b'],
      act: [{ sub: 'echo-relay' }],
      client_id: 'echo-relay',
    });
    expect(seen.scopes).toEqual(expect.arrayContaining(['echo:read']));
    // An audience alice may not reach is refused by the auth service, and Relay says so.
    expect(await codeOf(rpc(echoClient, 'Relay', { target: echoB.grpc, audience: 'billing' }, t))).toBe(
      grpc.status.PERMISSION_DENIED,
    );
  });

  it('a token for one audience is rejected by the other, both ways', async () => {
    const { access_token: t } = await login();
    expect(await codeOf(rpc(echoBClient, 'WhoAmI', {}, t))).toBe(grpc.status.UNAUTHENTICATED);
    const b = await rpc<{ access_token: string }>(authClient, 'IssueToken', {
      password: { username: 'alice', password: alicePassword },
      audience: ['echo-b'],
    });
    expect(await codeOf(rpc(echoBClient, 'WhoAmI', {}, b.access_token))).toBe(0);
    expect(await codeOf(rpc(echoClient, 'WhoAmI', {}, b.access_token))).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('a password token source with the client interceptor calls echo (unary and stream)', async () => {
    const source: TokenSource = passwordSource({
      authTarget: auth.grpc,
      username: 'alice',
      password: alicePassword,
      audience: 'echo',
    });
    const c = new (echoGrpc().echo.v1.Echo)(echo.grpc, insecure, { interceptors: [authInterceptor(source)] });
    try {
      const me = await new Promise<{ sub: string }>((res, rej) =>
        c.WhoAmI({}, (e, r) => (e ? rej(e) : res(r!))),
      );
      expect(me.sub).toBe('alice');
      const n = await new Promise<number>((res, rej) => {
        let k = 0;
        const s = c.StreamWhoAmI({ count: 3 });
        s.on('data', () => k++);
        s.on('error', rej);
        s.on('end', () => res(k));
      });
      expect(n).toBe(3);
    } finally {
      c.close();
      source.close?.();
    }
  });
});

describe('echo mesh: keys and availability', () => {
  it('a key rotation in the middle of traffic rejects no valid call', async () => {
    const before = (await tester()).access_token;
    let failures = 0;
    let calls = 0;
    const kids = new Set<string>([kidOf(before)]);
    let rotating = true;
    const traffic = (async () => {
      const deadline = Date.now() + 15_000;
      while ((rotating || calls < 40) && Date.now() < deadline) {
        const { access_token: t } = await tester();
        kids.add(kidOf(t));
        for (const token of [t, before]) {
          calls++;
          if ((await codeOf(rpc(echoClient, 'WhoAmI', {}, token))) !== 0) failures++;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    await cli(['keys', 'rotate'], '');
    // Keep going until tokens signed by the new key have been used.
    const deadline = Date.now() + 10_000;
    while (kids.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    rotating = false;
    await traffic;
    console.log(
      `[echo-mesh] key rotation under traffic: ${calls} calls, ${failures} rejected, kids ${kids.size}`,
    );
    expect(kids.size).toBe(2);
    expect(failures).toBe(0);
  });

  it('echo keeps verifying tokens once the auth service is stopped', async () => {
    const { access_token: t } = await login();
    await Promise.all([auth.stop(), authShort.stop()]);
    const samples: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      expect(await codeOf(rpc(echoClient, 'WhoAmI', {}, t))).toBe(0);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    console.log(
      `[echo-mesh] WhoAmI with auth down: median ${samples[25]!.toFixed(2)} ms, max ${samples[49]!.toFixed(2)} ms`,
    );
    expect(await codeOf(rpc(echoClient, 'WhoAmI', {}, 'garbage'))).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('an expired token → UNAUTHENTICATED (1 s token, past the 5 s tolerance)', async () => {
    const wait = expiredSoon.obtainedAt + 1000 + 5000 + 700 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    expect(await codeOf(rpc(echoClient, 'WhoAmI', {}, expiredSoon.token))).toBe(grpc.status.UNAUTHENTICATED);
  }, 15_000);
});
