// Removing a key never un-revokes (issue 10): a logout whose revocation event was signed by key K1 must
// keep rejecting the logged-out token after K1 is withdrawn (a kid revocation), also in an echo started
// afterwards, which can only verify that event with K1's public key. Real processes, real nats-server.
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { signRevocationEvent } from '@authmesh/interceptor';
import { runCli, until } from './support/mesh.js';
import { meshSuite } from './support/mesh-suite.js';

const ISSUER = 'http://auth.key-withdrawal.test';
const UNAUTHENTICATED = 16;

describe('a kid revocation keeps the revocations that key signed', () => {
  const suite = meshSuite({ issuer: ISSUER });

  it('an echo started after K1 was withdrawn still rejects a token logged out by an event K1 signed', async () => {
    const { mesh, nats } = suite;
    // K1 signs now; take its private half (the test plays an auth replica that has not seen the rotation yet).
    const k1 = await mesh.signingKey();
    const rotated = await runCli(mesh.env, ['keys', 'rotate']);
    expect(rotated.code, rotated.stderr).toBe(0);
    // The logged-out token is signed by K2, a key that stays trusted.
    let token = '';
    await until(
      async () => {
        token = await mesh.clientToken('svc');
        return decodeProtectedHeader(token).kid !== k1.kid;
      },
      10_000,
      'a token signed by the new key',
    );
    expect((await mesh.echo('WhoAmI', token)).code).toBe(0);

    // The logout (a jti revocation), signed by K1.
    const { jti, exp } = decodeJwt(token);
    const now = Math.floor(Date.now() / 1000);
    const event = await signRevocationEvent(
      { v: 1, kind: 'jti', value: jti!, at: now, exp: exp!, reason: 'logout' },
      { kid: k1.kid, alg: k1.alg, privateKey: k1.key },
      ISSUER,
    );
    const nc = await connect({ servers: nats.url });
    try {
      await nc.jetstream().publish('authmesh.revoked.jti', Buffer.from(event));
    } finally {
      await nc.close();
    }
    await until(
      async () => (await mesh.echo('WhoAmI', token)).code === UNAUTHENTICATED,
      5000,
      'logout applied',
    );

    // K1 is withdrawn (compromised): every token it signed is rejected; K2's tokens are not.
    const admin = await mesh.adminToken();
    expect((await mesh.authCall('Revoke', { key_id: k1.kid, reason: 'compromised' }, admin)).code).toBe(0);

    const late = await mesh.startEcho();
    const i = mesh.echoes.indexOf(late);
    const fresh = await mesh.clientToken('svc');
    expect((await mesh.echo('WhoAmI', fresh, { i })).code).toBe(0);
    // The replayed logout is checked against K1's public key, which the auth service keeps for events only.
    for (let n = 0; n < 5; n++) {
      expect((await mesh.echo('WhoAmI', token, { i })).code).toBe(UNAUTHENTICATED);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect((await mesh.echo('WhoAmI', token, { i: 0 })).code).toBe(UNAUTHENTICATED);

    // K1 itself is never trusted for a token again, nor listed in the HTTP JWKS validators read.
    const jwks = (await (await fetch(`http://${mesh.auth.http}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).not.toContain(k1.kid);
  }, 90_000);
});
