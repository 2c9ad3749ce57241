// `authmesh doctor` against a real installation: all checks pass with the running auth service; a
// wrong KEK, a missing NATS and a wrong issuer each fail with exit code 1 and say what to do.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, freePort } from '@authmesh/testing';
import { startDeployNats } from './support/deploy-nats.js';
import { Mesh, runCli } from './support/mesh.js';

let nats: NatsServer;
let mesh: Mesh;
let env: Record<string, string>;

beforeAll(async () => {
  nats = await NatsServer.start();
  const http = await freePort();
  mesh = await Mesh.start({
    natsUrl: nats.url,
    issuer: `http://127.0.0.1:${http}`,
    authEnv: { AUTHMESH_HTTP_ADDR: `127.0.0.1:${http}` },
    echoes: 0,
  });
  env = { ...mesh.env, AUTHMESH_AUTH_TARGET: mesh.auth.grpc };
}, 60_000);

afterAll(async () => {
  await mesh?.stop();
  await nats?.stop();
});

type Check = { check: string; ok: boolean; detail: string; fix?: string };
const checks = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Check);

describe('authmesh doctor', () => {
  it('passes every check on a healthy installation, but an open NATS fails in production', async () => {
    const r = await runCli(env, ['doctor', '--json']);
    const all = checks(r.stdout);
    // The test nats-server has no users: doctor says so (and fails in production, the default).
    expect(all.filter((c) => !c.ok).map((c) => c.check)).toEqual(['NATS authentication']);
    expect(all.find((c) => c.check === 'NATS authentication')).toMatchObject({
      detail: expect.stringMatching(/^NOT required/),
      fix: expect.stringContaining('deploy/nats-server.conf'),
    });
    expect(all.find((c) => c.check === 'mode')?.detail).toBe('production');
    expect(all.find((c) => c.check === 'record integrity')).toMatchObject({ ok: true });
    expect(r.code).toBe(1);
    expect(all.map((c) => c.check)).toEqual(
      expect.arrayContaining([
        'mode',
        'configuration',
        'NATS',
        'JetStream',
        'bucket AUTHMESH_KEYS',
        'bucket AUTHMESH_REFRESH',
        'stream AUTHMESH_REVOCATIONS',
        'keys',
        `auth gRPC ${mesh.auth.grpc}`,
        `auth HTTP ${env.AUTHMESH_ISSUER}/.well-known/openid-configuration`,
      ]),
    );
    // In development (explicitly) an open NATS is reported, not failed: every other check passes.
    const human = await runCli({ ...env, AUTHMESH_ENV: 'development' }, ['doctor']);
    expect(human.stdout).toMatch(
      /ok {4}mode: development \(AUTHMESH_ENV=development\): the KEK is kept in NATS/,
    );
    expect(human.code, human.stdout).toBe(0);
    expect(human.stdout).toContain('all checks passed');
  });

  it('sees that a NATS with users requires authentication', async () => {
    const deploy = await startDeployNats();
    try {
      const r = await runCli({ ...env, NATS_URL: deploy.url('operator') }, ['doctor', '--json']);
      expect(checks(r.stdout).find((c) => c.check === 'NATS authentication')).toEqual({
        check: 'NATS authentication',
        ok: true,
        detail: 'required by the server',
      });
      expect(r.stdout).not.toContain(deploy.creds('operator').pass);
    } finally {
      await deploy.nats.stop();
    }
  });

  it('a wrong KEK fails the keys check, without printing either KEK', async () => {
    const wrong = randomBytes(32).toString('base64url');
    const r = await runCli({ ...env, AUTHMESH_KEK: wrong }, ['doctor']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL {2}keys: a private key does not open with this KEK\n {6}→ AUTHMESH_KEK must be/,
    );
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(r.stdout + r.stderr).not.toContain(env.AUTHMESH_KEK!);
  });

  it('unreachable NATS and a wrong issuer fail with what to do', async () => {
    const dead = await freePort();
    const r = await runCli(
      { ...env, NATS_URL: `nats://127.0.0.1:${dead}`, AUTHMESH_ISSUER: 'http://127.0.0.1:1' },
      ['doctor', '--json'],
    );
    expect(r.code).toBe(1);
    const all = checks(r.stdout);
    expect(all.find((c) => c.check === 'NATS')).toMatchObject({
      ok: false,
      fix: expect.stringContaining('NATS_URL'),
    });
    expect(all.find((c) => c.check.startsWith('auth HTTP'))).toMatchObject({ ok: false });
    // The auth service itself still answers on gRPC.
    expect(all.find((c) => c.check.startsWith('auth gRPC'))).toMatchObject({ ok: true });
  });
});
