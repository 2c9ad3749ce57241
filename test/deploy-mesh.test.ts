// The real processes under deploy/nats-server.conf, each with its own NATS user as docker-compose.yml
// gives them (NATS_URL=nats://user:password@host): the auth service as `authmesh-auth`, the CLI as
// `authmesh-operator`, echo and echo-b as `authmesh-service`, and the KEK from a file (AUTHMESH_KEK_FILE)
// as compose mounts it. Login, call echo, Relay, revoke (through the auth service and through the CLI),
// echo rejects; a key rotation; and nats-server logged no permission violation of anyone on the way, so
// the configuration grants everything these processes really do.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthServiceClient, EchoClient, TokenResponse__Output } from '@authmesh/proto';
import type { ServiceProcess } from '@authmesh/testing';
import { ECHO_RELAY_CLIENT_ARGS, startDeployNats, type DeployNats } from './support/deploy-nats.js';
import {
  PASSWORD,
  call,
  runCli,
  startAuthService,
  startEchoService,
  testAuthEnv,
  until,
} from './support/mesh.js';

const ISSUER = 'http://auth.deploy.test';
const UNAUTHENTICATED = 16;

describe('auth service, CLI and echo as processes with their least-privilege NATS users', () => {
  let d: DeployNats;
  let cliEnv: Record<string, string>;
  let kekDir: string | undefined;
  let auth: { proc: ServiceProcess; client: AuthServiceClient };
  let echo: { proc: ServiceProcess; client: EchoClient };
  let echoB: { proc: ServiceProcess; client: EchoClient };

  const login = async () => {
    const r = await call<TokenResponse__Output>(auth.client, 'IssueToken', {
      password: { username: 'alice', password: PASSWORD },
      audience: ['echo'],
    });
    expect(r.code, r.details).toBe(0);
    return r.res!.access_token;
  };
  const whoAmI = (token: string) => call<{ sub: string }>(echo.client, 'WhoAmI', {}, token);
  const rejected = (token: string) => async () => (await whoAmI(token)).code === UNAUTHENTICATED;

  beforeAll(async () => {
    d = await startDeployNats();
    const { AUTHMESH_KEK: kek, ...authEnv } = testAuthEnv(d.url('auth'), ISSUER);
    kekDir = mkdtempSync(join(tmpdir(), 'authmesh-kek-'));
    authEnv.AUTHMESH_KEK_FILE = join(kekDir, 'authmesh-kek');
    writeFileSync(authEnv.AUTHMESH_KEK_FILE, `${kek}\n`, { mode: 0o600 });
    cliEnv = { ...authEnv, NATS_URL: d.url('operator') };
    const added = await runCli(
      cliEnv,
      ['user', 'add', 'alice', '--roles', 'dev', '--scopes', 'echo:read', '--audiences', 'echo,echo-b'],
      `${PASSWORD}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    // The echo services' own client, registered as docker-compose.yml's `provision` does.
    const relaySecret = randomBytes(32).toString('base64url');
    const relay = await runCli(cliEnv, ECHO_RELAY_CLIENT_ARGS, `${relaySecret}\n`);
    expect(relay.code, relay.stderr).toBe(0);
    auth = await startAuthService(authEnv);
    const echoEnv = { AUTHMESH_CLIENT_ID: 'echo-relay', AUTHMESH_CLIENT_SECRET: relaySecret };
    [echo, echoB] = await Promise.all(
      ['echo', 'echo-b'].map((audience) =>
        startEchoService({
          name: audience,
          audience,
          issuer: ISSUER,
          authTarget: auth.proc.grpc,
          natsUrl: d.url('service'),
          env: echoEnv,
        }),
      ),
    );
  }, 90_000);
  afterAll(async () => {
    (auth?.client as unknown as { close(): void } | undefined)?.close();
    for (const e of [echo, echoB]) (e?.client as unknown as { close(): void } | undefined)?.close();
    await Promise.all([echo?.proc.stop(), echoB?.proc.stop()]);
    await auth?.proc.stop();
    await d?.nats.stop();
    if (kekDir) rmSync(kekDir, { recursive: true, force: true });
  });

  it('login, call echo, Relay to echo-b, logout through the auth service: echo rejects the revoked token', async () => {
    const token = await login();
    const ok = await whoAmI(token);
    expect(ok.code, ok.details).toBe(0);
    expect(ok.res!.sub).toBe('alice');
    // Relay: echo exchanges alice's token for echo-b with its own client credentials.
    const relayed = await call<{ sub: string; aud: string[]; act: { sub: string }[] }>(
      echo.client,
      'Relay',
      { target: echoB.proc.grpc, audience: 'echo-b' },
      token,
    );
    expect(relayed.code, relayed.details).toBe(0);
    expect(relayed.res).toMatchObject({ sub: 'alice', aud: ['echo-b'], act: [{ sub: 'echo-relay' }] });
    // Self-logout by possession of the token (RFC 7009 style, no caller token).
    const r = await call(auth.client, 'Revoke', { token });
    expect(r.code, r.details).toBe(0);
    await until(rejected(token), 10_000, 'echo rejects the revoked token');
  });

  it('the operator revokes a subject with the CLI: echo rejects its live token', async () => {
    const token = await login();
    expect((await whoAmI(token)).code).toBe(0);
    // Tokens with iat <= the revocation's `at` (seconds) are revoked: let the second tick first.
    await new Promise((r) => setTimeout(r, 1100));
    const revoked = await runCli(cliEnv, ['revoke', '--subject', 'alice', '--reason', 'deploy test']);
    expect(revoked.code, revoked.stderr).toBe(0);
    await until(rejected(token), 10_000, 'echo rejects the subject-revoked token');
  });

  it('the operator rotates the key with the CLI: the service signs with the new one, echo accepts it', async () => {
    const before = decodeProtectedHeader(await login()).kid;
    const rotated = await runCli(cliEnv, ['keys', 'rotate']);
    expect(rotated.code, rotated.stderr).toBe(0);
    // The auth service follows the ring through its KV watch (an ordered consumer with flow control).
    let token = '';
    await until(
      async () => {
        token = await login();
        return decodeProtectedHeader(token).kid !== before;
      },
      10_000,
      'tokens signed with the new key',
    );
    const r = await whoAmI(token);
    expect(r.code, r.details).toBe(0);
  });

  it('nobody was refused anything by nats-server on the way', () => {
    expect(d.nats.log).toMatch(/Server is ready/);
    expect(d.nats.log).not.toMatch(/Violation/);
    // The server really enforces authentication (the log would say so otherwise).
    expect(d.nats.log).not.toMatch(/authentication error/);
  });
});
