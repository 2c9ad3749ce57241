// A credential change must end what the old credentials opened (issue 10): replacing a user with
// `authmesh user add` (new password, or new roles/scopes) revokes that user's sessions and live access
// tokens mesh-wide. Real nats-server, the auth service and echo as separate processes, the CLI as an
// operator runs it.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { meshSuite } from '../support/mesh-suite.js';
import { PASSWORD, runCli, until } from '../support/mesh.js';

const suite = meshSuite({ issuer: 'http://auth.credential-change.test' });

/** `authmesh user add alice …` with `password`; its JSON result line. */
async function replaceAlice(password: string, scopes = 'echo:read'): Promise<Record<string, unknown>> {
  const r = await runCli(
    suite.mesh.env,
    ['user', 'add', 'alice', '--roles', 'dev', '--scopes', scopes, '--audiences', 'echo'],
    `${password}\n`,
  );
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const loginWith = (password: string) =>
  suite.mesh.authCall('IssueToken', {
    password: { username: 'alice', password },
    audience: ['echo'],
  });

/** Waits until the clock is past the second of `atSec`: tokens issued then are newer than the change. */
async function pastSecond(atSec: number): Promise<void> {
  const ms = (atSec + 1) * 1000 - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms + 20));
}

describe('a password change ends the sessions and tokens of the old password', () => {
  it('old access token refused by a running echo, old refresh token refused, old password refused; the new one works', async () => {
    const { mesh } = suite;
    const before = await mesh.login(); // alice, with the password the mesh provisioned
    const other = await mesh.login(); // a second session of alice (another device)
    expect((await mesh.echo('WhoAmI', before.access_token)).code).toBe(0);

    const result = await replaceAlice('a brand new passphrase');
    const changedAt = Math.floor(Date.now() / 1000);

    for (const t of [before.access_token, other.access_token]) {
      await until(
        async () => (await mesh.echo('WhoAmI', t)).code === grpc.status.UNAUTHENTICATED,
        5000,
        'echo refuses an access token from before the password change',
      );
    }
    for (const refresh_token of [before.refresh_token, other.refresh_token]) {
      const r = await mesh.authCall('Refresh', { refresh_token });
      expect(r.code, r.details).toBe(grpc.status.UNAUTHENTICATED);
    }
    expect((await loginWith(PASSWORD)).code).toBe(grpc.status.UNAUTHENTICATED);

    await pastSecond(changedAt);
    const fresh = await loginWith('a brand new passphrase');
    expect(fresh.code, fresh.details).toBe(0);
    const { access_token, refresh_token } = fresh.res!;
    expect((await mesh.echo('WhoAmI', access_token)).code).toBe(0);
    expect((await mesh.authCall('Refresh', { refresh_token })).code).toBe(0);
    expect(result).toMatchObject({ replaced: true, sessions_revoked: true });
  });

  it('a scope change ends the old sessions too: a token still carrying the removed scope is refused', async () => {
    const { mesh } = suite;
    await replaceAlice(PASSWORD, 'echo:read,echo:admin');
    await pastSecond(Math.floor(Date.now() / 1000));
    const admin = await loginWith(PASSWORD);
    expect(admin.code, admin.details).toBe(0);
    expect(decodeJwt(admin.res!.access_token).scope).toContain('echo:admin');
    expect((await mesh.echo('Admin', admin.res!.access_token)).code).toBe(0);

    await replaceAlice(PASSWORD, 'echo:read'); // echo:admin taken away, same password
    await until(
      async () => (await mesh.echo('Admin', admin.res!.access_token)).code === grpc.status.UNAUTHENTICATED,
      5000,
      'echo refuses the token that still carries echo:admin',
    );
    const r = await mesh.authCall('Refresh', { refresh_token: admin.res!.refresh_token });
    expect(r.code, r.details).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('adding a new user revokes nothing', async () => {
    const r = await runCli(
      suite.mesh.env,
      ['user', 'add', 'newcomer', '--scopes', 'echo:read'],
      'pw-newcomer\n',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out).toMatchObject({ event: 'user-added', replaced: false });
    expect(out).not.toHaveProperty('sessions_revoked');
  });
});
