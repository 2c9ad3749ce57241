// Races on the auth service (real processes): 100 parallel refreshes of one refresh token, and Revoke
// racing Refresh on the same session. Nothing that returned OK may outlive a revocation it raced.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { TokenResponse__Output } from '@authmesh/proto';
import { type Mesh, until } from '../support/mesh.js';
import { meshSuite } from '../support/mesh-suite.js';

const suite = meshSuite({ issuer: 'http://auth.races.test' }, 90_000);

describe('races', () => {
  it('100 parallel refreshes of one token: exactly one succeeds, the rest are UNAUTHENTICATED (no INTERNAL)', async () => {
    const { refresh_token } = await suite.mesh.login();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => suite.mesh.authCall('Refresh', { refresh_token })),
    );
    const byCode = new Map<number, number>();
    for (const r of results) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    console.log(
      `[races] 100 parallel refreshes: ${[...byCode].map(([c, n]) => `${grpc.status[c]} ${n}`).join(', ')}`,
    );
    expect(byCode.get(0)).toBe(1);
    expect(byCode.get(grpc.status.UNAUTHENTICATED)).toBe(99);
    for (const r of results) if (r.code !== 0) expect(r.details).not.toContain(refresh_token.slice(0, 20));
    // The winner's tokens are genuine; the losers were refresh-token reuse, which (DESIGN.md) revokes the
    // whole family: the winner's refresh token must then be dead too, and its access token rejected.
    const winner = results.find((r) => r.code === 0)!.res!;
    const again = await suite.mesh.authCall('Refresh', { refresh_token: winner.refresh_token });
    const access = await suite.mesh.echo('WhoAmI', winner.access_token);
    console.log(
      `[races] after the race: the winner's refresh token → ${grpc.status[again.code]}, its access token → ${grpc.status[access.code]}`,
    );
    expect([0, grpc.status.UNAUTHENTICATED]).toContain(again.code);
    if (again.code !== 0) {
      await until(
        async () =>
          (await suite.mesh.echo('WhoAmI', winner.access_token)).code === grpc.status.UNAUTHENTICATED,
        3000,
        'family revoked after reuse',
      );
    }
  });

  it('Revoke racing Refresh on one session, 20 rounds: after both return, no refresh token of the session works and no access token passes', async () => {
    const admin = await suite.mesh.adminToken();
    const outcomes = new Map<string, number>();
    for (let round = 0; round < 20; round++) {
      const login = await suite.mesh.login();
      const sid = decodeJwt(login.access_token).sid as string;
      expect(sid).toBeTruthy();
      // Alternate the two ways to end a session: an admin revoking the session id, the holder logging out
      // with its refresh token (no caller token: possession of the refresh token is the authority).
      const revoke = () =>
        round % 2 === 0
          ? suite.mesh.authCall('Revoke', { session_id: sid, reason: 'race' }, admin)
          : suite.mesh.authCall('Revoke', { token: login.refresh_token, reason: 'logout race' });
      const delay = (round % 5) * 2; // shifts the interleaving a little each round
      const [rv, rf] = await Promise.all([
        revoke(),
        new Promise<Awaited<ReturnType<Mesh['authCall']>>>((r) =>
          setTimeout(
            () =>
              r(
                suite.mesh.authCall<TokenResponse__Output>('Refresh', { refresh_token: login.refresh_token }),
              ),
            delay,
          ),
        ),
      ]);
      const key = `revoke ${grpc.status[rv.code]} / refresh ${grpc.status[rf.code]}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      expect(rv.code, rv.details).toBe(0);
      expect([0, grpc.status.UNAUTHENTICATED]).toContain(rf.code);
      // Refresh tokens: checked at once (the auth service's own state, no propagation delay allowed).
      expect((await suite.mesh.authCall('Refresh', { refresh_token: login.refresh_token })).code).toBe(
        grpc.status.UNAUTHENTICATED,
      );
      const tokens = [login.access_token];
      if (rf.code === 0) {
        const minted = rf.res as TokenResponse__Output;
        expect((await suite.mesh.authCall('Refresh', { refresh_token: minted.refresh_token })).code).toBe(
          grpc.status.UNAUTHENTICATED,
        );
        tokens.push(minted.access_token);
      }
      // Access tokens: rejected by the echo once the revocation propagated (bounded wait).
      for (const t of tokens) {
        await until(
          async () => (await suite.mesh.echo('WhoAmI', t)).code === grpc.status.UNAUTHENTICATED,
          3000,
          `round ${round}: access token of the revoked session`,
        );
      }
    }
    console.log(
      `[races] Revoke vs Refresh, 20 rounds: ${[...outcomes].map(([k, n]) => `${k} × ${n}`).join(', ')}`,
    );
  });
});
