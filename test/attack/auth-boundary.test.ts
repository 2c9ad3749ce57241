// Attacks on the auth service's own trust boundary (issue 10), against a real nats-server and the auth
// service and echo as separate processes: a token minted for another service replayed to the auth
// service's RPCs, admin authority borrowed through a delegated token, and Revoke without a caller token.
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
let secrets: Record<'relay', string>;

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
  // relay: a service identity that may exchange (for the exchange replay below).
  secrets = await addClients(suite.mesh.env, {
    relay: ['--scopes', 'authmesh:exchange', '--audiences', 'echo,echo-b'],
  });
  // bob may reach echo and echo-b: the audiences an exchange could mint for.
  const bob = await runCli(
    suite.mesh.env,
    ['user', 'add', 'bob', '--scopes', 'echo:read', '--audiences', 'echo,echo-b'],
    `${PASSWORD}\n`,
  );
  expect(bob.code, bob.stderr).toBe(0);
}, 30_000);

describe('cross-audience replay to the auth service', () => {
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
    // The same admin, with a token for the auth service itself, is still an admin (control).
    const own = await mesh.adminToken();
    const ok = await mesh.authCall<{ kind: string }>('Revoke', { jti: 'unused-jti', reason: 'control' }, own);
    expect(ok.code, ok.details).toBe(0);
  });

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
