// Races on the auth service (real processes): concurrent refreshes of one refresh token, a Refresh whose
// answer is lost and retried on another replica, reuse of older generations, and Revoke racing Refresh on
// the same session. Nothing that returned OK may outlive a revocation it raced.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AuthServiceClient, TokenResponse__Output } from '@authmesh/proto';
import { authGrpc } from '@authmesh/proto';
import { call, type Mesh, startAuthService, until } from '../support/mesh.js';
import { meshSuite } from '../support/mesh-suite.js';
import { startProxy } from '../support/proxy.js';

const suite = meshSuite({ issuer: 'http://auth.races.test', echoes: 2 }, 90_000);

const refresh = (refresh_token: string) =>
  suite.mesh.authCall<TokenResponse__Output>('Refresh', { refresh_token });

/** Polls until every echo refuses `token`; returns the ms it took. */
const deadEverywhere = (token: string, ms: number, what: string) =>
  until(
    async () => {
      const codes = await Promise.all(
        suite.mesh.echoes.map((_, i) => suite.mesh.echo('WhoAmI', token, { i })),
      );
      return codes.every((r) => r.code === grpc.status.UNAUTHENTICATED);
    },
    ms,
    what,
  );

describe('races', () => {
  it('20 concurrent refreshes of one token all get the same successor, and the session lives on', async () => {
    const { refresh_token } = await suite.mesh.login();
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(refresh_token)));
    const byCode = new Map<number, number>();
    for (const r of results) byCode.set(r.code, (byCode.get(r.code) ?? 0) + 1);
    console.log(
      `[races] 20 concurrent refreshes: ${[...byCode].map(([c, n]) => `${grpc.status[c]} ${n}`).join(', ')}`,
    );
    for (const r of results) expect(r.code, r.details).toBe(0);
    const successors = new Set(results.map((r) => r.res!.refresh_token));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    // Every access token handed out is of the live session; the successor rotates normally.
    for (const r of results.slice(0, 3))
      expect((await suite.mesh.echo('WhoAmI', r.res!.access_token)).code).toBe(0);
    const next = await refresh(successor!);
    expect(next.code, next.details).toBe(0);
    expect((await suite.mesh.echo('WhoAmI', next.res!.access_token)).code).toBe(0);
  });

  it('a Refresh whose answer is lost is retried on another replica and returns the same successor', async () => {
    const replica = await startAuthService(suite.mesh.env);
    const proxy = await startProxy(suite.mesh.auth.grpc);
    const { AuthService } = authGrpc().authmesh.v1;
    const viaProxy = new AuthService(
      proxy.address,
      grpc.credentials.createInsecure(),
    ) as unknown as AuthServiceClient;
    try {
      const { refresh_token } = await suite.mesh.login();
      expect((await call(viaProxy, 'GetJwks', {})).code).toBe(0); // connection up before answers are dropped
      proxy.mode = 'drop-answers';
      const lost = await call(viaProxy, 'Refresh', { refresh_token }, undefined, { deadlineMs: 1500 });
      expect(lost.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      // The retry, as a client behind a load balancer makes it: same token, the other replica.
      const retry = await call<TokenResponse__Output>(replica.client, 'Refresh', { refresh_token });
      expect(retry.code, retry.details).toBe(0);
      const { refresh_token: successor, access_token } = retry.res!;
      // The lost answer carried this very successor (the proxy kept the bytes it swallowed).
      expect(Buffer.concat(proxy.dropped).includes(Buffer.from(successor))).toBe(true);
      expect((await suite.mesh.echo('WhoAmI', access_token)).code).toBe(0);
      const next = await refresh(successor);
      expect(next.code, next.details).toBe(0);
    } finally {
      (viaProxy as unknown as grpc.Client).close();
      await proxy.close();
      (replica.client as unknown as grpc.Client).close();
      await replica.proc.stop();
    }
  });

  it('a token two generations old is reuse, even while the newest is unused: the session ends at once', async () => {
    const login = await suite.mesh.login();
    const second = await refresh(login.refresh_token);
    const third = await refresh(second.res!.refresh_token);
    expect(third.code).toBe(0);
    // The last rotation's own retry still works (the newest token is unused)...
    expect((await refresh(second.res!.refresh_token)).res?.refresh_token).toBe(third.res!.refresh_token);
    // ...a generation further back does not, and takes the family with it.
    expect((await refresh(login.refresh_token)).code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await refresh(third.res!.refresh_token)).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it('reuse after the successor was used kills the session at every echo within 2 s', async () => {
    const login = await suite.mesh.login();
    const second = await refresh(login.refresh_token);
    const third = await refresh(second.res!.refresh_token); // the successor is used
    expect(third.code).toBe(0);
    for (let i = 0; i < suite.mesh.echoes.length; i++)
      expect((await suite.mesh.echo('WhoAmI', third.res!.access_token, { i })).code).toBe(0);
    // Within the grace, but its successor has been used: the first token presented again is reuse.
    const reuse = await refresh(login.refresh_token);
    expect(reuse.code).toBe(grpc.status.UNAUTHENTICATED);
    // Tokens of the family, old and new: refused by every echo within 2 s, and no refresh works.
    for (const t of [login.access_token, second.res!.access_token, third.res!.access_token]) {
      const ms = await deadEverywhere(t, 2000, 'family revoked at every echo after reuse');
      console.log(
        `[races] reuse → access token refused at ${suite.mesh.echoes.length} echoes after ${ms.toFixed(0)} ms`,
      );
    }
    expect((await refresh(third.res!.refresh_token)).code).toBe(grpc.status.UNAUTHENTICATED);
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
