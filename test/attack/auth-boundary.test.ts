// Attacks on the auth service's own trust boundary (issue 10), against a real nats-server and the auth
// service and echo as separate processes: a token minted for another service replayed to the auth
// service's RPCs, admin authority borrowed through a delegated token, ExchangeToken minting beyond what
// the caller serves and the subject may have, and Revoke without a caller token. The attacks that, on
// code without these checks, succeed at revoking everything run last, so they cannot mask the others.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { connect } from 'nats';
import { beforeAll, describe, expect, it } from 'vitest';
import { addClients, meshSuite } from '../support/mesh-suite.js';
import { PASSWORD, runCli, until } from '../support/mesh.js';
import { jws, signers } from './forge.js';

const ISSUER = 'http://auth.boundary.test';
const suite = meshSuite({ issuer: ISSUER });
let secrets: Record<'relay' | 'other', string>;

/** The last sequence of the revocation stream: unchanged means nothing was published. */
async function lastRevocationSequence(): Promise<number> {
  const nc = await connect({ servers: suite.nats.url });
  try {
    const info = await (await nc.jetstreamManager()).streams.info('AUTHMESH_REVOCATIONS');
    return info.state.last_seq;
  } finally {
    await nc.close();
  }
}

/** A refused call must stay refused and publish nothing; give a late publish time to show up. */
async function expectNothingPublished(before: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  expect(await lastRevocationSequence()).toBe(before);
}

beforeAll(async () => {
  // relay: echo's identity (it receives tokens for echo); other: a service that receives billing's.
  secrets = await addClients(suite.mesh.env, {
    relay: ['--scopes', 'authmesh:exchange', '--audiences', 'echo,echo-b', '--serves', 'echo'],
    other: ['--scopes', 'authmesh:exchange', '--audiences', 'echo,echo-b', '--serves', 'billing'],
  });
  // bob may reach echo and echo-b: the audiences an exchange could mint for; root is also an admin.
  for (const [name, scopes] of [
    ['bob', 'echo:read'],
    ['root', 'authmesh:admin,echo:read'],
  ]) {
    const r = await runCli(
      suite.mesh.env,
      ['user', 'add', name!, '--scopes', scopes!, '--audiences', 'echo,echo-b'],
      `${PASSWORD}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
  }
}, 30_000);

describe('cross-audience replay to the auth service', () => {
  it("another client's token for echo, replayed as the caller of ExchangeToken: UNAUTHENTICATED, nothing minted", async () => {
    const { mesh } = suite;
    const bob = await mesh.issue({ password: { username: 'bob', password: PASSWORD }, audience: ['echo'] });
    // relay is allowed to exchange; echo receives relay's token when relay calls it, and replays it.
    const relayForEcho = (
      await mesh.issue({
        client_credentials: { client_id: 'relay', client_secret: secrets.relay },
        audience: ['echo'],
      })
    ).access_token;
    const r = await mesh.authCall(
      'ExchangeToken',
      { subject_token: bob.access_token, audience: 'echo-b' },
      relayForEcho,
    );
    expect(r.code, r.details).toBe(grpc.status.UNAUTHENTICATED);
  });
});

/** A token exchange by client `id` (its own token for the auth service) of `subject_token`. */
async function exchangeAs(
  id: 'relay' | 'other',
  subject_token: string,
  audience: string,
  scope: string[] = [],
) {
  const own = (await suite.mesh.issue({ client_credentials: { client_id: id, client_secret: secrets[id] } }))
    .access_token;
  return suite.mesh.authCall('ExchangeToken', { subject_token, audience, scope }, own);
}

const loginAs = (username: string, audience = ['echo']) =>
  suite.mesh.issue({ password: { username, password: PASSWORD }, audience });

describe('ExchangeToken: only tokens sent to the caller, only what both may have, never authmesh authority', () => {
  it('control: relay (serves echo) exchanges a token for echo into one for echo-b, with the act chain', async () => {
    const bob = await loginAs('bob');
    const r = await exchangeAs('relay', bob.access_token, 'echo-b');
    expect(r.code, r.details).toBe(0);
    expect(decodeJwt(r.res!.access_token)).toMatchObject({
      sub: 'bob',
      aud: 'echo-b',
      scope: 'echo:read',
      act: { sub: 'relay' },
    });
  });

  it('a subject token for an audience the caller does not serve: PERMISSION_DENIED', async () => {
    const bob = await loginAs('bob'); // for echo; `other` serves billing only
    const r = await exchangeAs('other', bob.access_token, 'echo-b');
    expect(r.code, r.details).toBe(grpc.status.PERMISSION_DENIED);
    // A token for the auth service itself is sent to no service: nobody may exchange it.
    const own = await loginAs('bob', []);
    const r2 = await exchangeAs('relay', own.access_token, 'echo-b');
    expect(r2.code, r2.details).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("an admin's token exchanged for audience authmesh: PERMISSION_DENIED (the default audience is no exchange target)", async () => {
    const root = await loginAs('root');
    const r = await exchangeAs('relay', root.access_token, 'authmesh', ['authmesh:admin']);
    expect(r.code, r.details).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('authmesh:* scopes never pass through an exchange, asked for or not', async () => {
    const root = await loginAs('root');
    expect(decodeJwt(root.access_token).scope).toContain('authmesh:admin');
    for (const scope of [['authmesh:admin', 'echo:read'], []]) {
      const r = await exchangeAs('relay', root.access_token, 'echo-b', scope);
      expect(r.code, r.details).toBe(0);
      expect(r.res!.scope).toBe('echo:read');
      expect(decodeJwt(r.res!.access_token).scope).toBe('echo:read');
    }
  });

  it('`client add --serves authmesh` is refused: no service receives tokens for the auth service', async () => {
    const r = await runCli(suite.mesh.env, [
      'client',
      'add',
      'greedy',
      '--scopes',
      'authmesh:exchange',
      '--serves',
      'echo,authmesh',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--serves');
  });

  it('a certificate-bound subject token comes back bound to the same certificate (echo refuses it without that certificate)', async () => {
    const { mesh } = suite;
    const { kid, key } = await mesh.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const thumbprint = randomBytes(32).toString('base64url');
    // What the auth service mints for svc over mTLS (RFC 8705 §3.1), signed with its real key.
    const bound = jws(
      { alg: 'EdDSA', kid, typ: 'at+jwt' },
      {
        iss: ISSUER,
        sub: 'svc',
        aud: ['echo'],
        iat: now,
        nbf: now,
        exp: now + 120,
        jti: randomBytes(16).toString('base64url'),
        client_id: 'svc',
        scope: 'echo:read',
        cnf: { 'x5t#S256': thumbprint },
      },
      signers.ed(key),
    );
    expect((await mesh.echo('WhoAmI', bound)).code).toBe(grpc.status.UNAUTHENTICATED); // no certificate
    const r = await exchangeAs('relay', bound, 'echo');
    expect(r.code, r.details).toBe(0);
    expect(decodeJwt(r.res!.access_token).cnf).toEqual({ 'x5t#S256': thumbprint });
    // Laundered into a bearer token it would pass here; bound, it does not.
    expect((await mesh.echo('WhoAmI', r.res!.access_token)).code).toBe(grpc.status.UNAUTHENTICATED);
  });
});

describe('Revoke without a caller token (RFC 7009: possession of the token)', () => {
  it('an access token revokes itself: OK, and echo then refuses it', async () => {
    const { mesh } = suite;
    const { access_token: t } = await mesh.login();
    expect((await mesh.echo('WhoAmI', t)).code).toBe(0);
    const r = await mesh.authCall<{ kind: string; value: string }>('Revoke', { token: t, reason: 'logout' });
    expect(r.code, r.details).toBe(0);
    expect(r.res).toMatchObject({ kind: 'jti', value: decodeJwt(t).jti });
    await until(
      async () => (await mesh.echo('WhoAmI', t)).code === grpc.status.UNAUTHENTICATED,
      5000,
      'echo refuses the revoked token',
    );
  });

  it('a refresh token ends its session: OK, and it no longer refreshes', async () => {
    const { mesh } = suite;
    const login = await mesh.login();
    const r = await mesh.authCall<{ kind: string; value: string }>('Revoke', {
      token: login.refresh_token,
      reason: 'logout',
    });
    expect(r.code, r.details).toBe(0);
    expect(r.res).toMatchObject({ kind: 'sid', value: decodeJwt(login.access_token).sid });
    const again = await mesh.authCall('Refresh', { refresh_token: login.refresh_token });
    expect(again.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('every other target without a caller token is UNAUTHENTICATED, and publishes nothing', async () => {
    const { mesh } = suite;
    const login = await mesh.login();
    const before = await lastRevocationSequence();
    for (const target of [
      { all: true },
      { subject: 'alice' },
      { session_id: decodeJwt(login.access_token).sid },
      { jti: decodeJwt(login.access_token).jti },
      { key_id: 'some-kid' },
    ]) {
      const r = await mesh.authCall('Revoke', { ...target, reason: 'anonymous' });
      expect(r.code, `${JSON.stringify(target)}: ${r.details}`).toBe(grpc.status.UNAUTHENTICATED);
    }
    await expectNothingPublished(before);
    expect((await mesh.echo('WhoAmI', login.access_token)).code).toBe(0);
  });

  it('a caller token that is sent must be valid: a bad or foreign one is refused, never ignored', async () => {
    const { mesh } = suite;
    const login = await mesh.login();
    const before = await lastRevocationSequence();
    for (const caller of ['not.a.token', login.access_token /* audience echo */]) {
      const r = await mesh.authCall('Revoke', { token: login.refresh_token, reason: 'x' }, caller);
      expect(r.code, r.details).toBe(grpc.status.UNAUTHENTICATED);
    }
    await expectNothingPublished(before);
    expect((await mesh.authCall('Refresh', { refresh_token: login.refresh_token })).code).toBe(0);
  });
});

describe('admin authority through a delegated token', () => {
  it('a genuine-signed token with act and scope authmesh:admin for the auth service cannot Revoke{all}: PERMISSION_DENIED, nothing published', async () => {
    const { mesh } = suite;
    const { kid, key } = await mesh.signingKey();
    const now = Math.floor(Date.now() / 1000);
    // Everything about it verifies: issuer, audience, key, lifetime. Only the `act` makes it delegated.
    const delegatedAdmin = jws(
      { alg: 'EdDSA', kid, typ: 'at+jwt' },
      {
        iss: ISSUER,
        sub: 'admin',
        aud: ['authmesh'],
        iat: now,
        nbf: now,
        exp: now + 120,
        jti: randomBytes(16).toString('base64url'),
        client_id: 'relay',
        scope: 'authmesh:admin',
        act: { sub: 'relay' },
      },
      signers.ed(key),
    );
    const before = await lastRevocationSequence();
    const r = await mesh.authCall('Revoke', { all: true, reason: 'delegated' }, delegatedAdmin);
    expect(r.code, r.details).toBe(grpc.status.PERMISSION_DENIED);
    await expectNothingPublished(before);
    const status = await mesh.authCall('GetMeshStatus', {}, delegatedAdmin);
    expect(status.code, status.details).toBe(grpc.status.PERMISSION_DENIED);
  });
});

describe('cross-audience replay to the auth service: Revoke{all}', () => {
  it("an admin's token minted for audience echo, replayed to Revoke{all}: UNAUTHENTICATED, nothing published, the mesh keeps working", async () => {
    const { mesh } = suite;
    const alice = await mesh.login();
    const echoAdmin = await mesh.clientToken('admin'); // what echo receives from an admin caller
    expect([decodeJwt(echoAdmin).aud].flat()).toEqual(['echo']);
    expect((await mesh.echo('WhoAmI', echoAdmin)).code).toBe(0);
    const before = await lastRevocationSequence();
    const r = await mesh.authCall('Revoke', { all: true, reason: 'replayed' }, echoAdmin);
    expect(r.code, r.details).toBe(grpc.status.UNAUTHENTICATED);
    await expectNothingPublished(before);
    expect((await mesh.echo('WhoAmI', alice.access_token)).code).toBe(0);
    // Nor can it read the mesh's status, which only admins see.
    const status = await mesh.authCall('GetMeshStatus', {}, echoAdmin);
    expect(status.code, status.details).toBe(grpc.status.UNAUTHENTICATED);
    // The same admin, with a token for the auth service itself, is still an admin (control).
    const own = await mesh.adminToken();
    const ok = await mesh.authCall<{ kind: string }>('Revoke', { jti: 'unused-jti', reason: 'control' }, own);
    expect(ok.code, ok.details).toBe(0);
    const ownStatus = await mesh.authCall('GetMeshStatus', {}, own);
    expect(ownStatus.code, ownStatus.details).toBe(0);
    expect((await mesh.authCall('GetMeshStatus', {}, own)).code).toBe(0);
  });
});
