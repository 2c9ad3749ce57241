// One node of a 3-node NATS JetStream cluster killed: the auth service (AUTHMESH_NATS_REPLICAS=3, all
// three URLs) and two echoes keep working — logins, refreshes and revocations propagate — and after the
// node comes back, a revocation made while it was down is still enforced.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { NatsCluster } from '@authmesh/testing';
import type { TokenResponse__Output } from '@authmesh/proto';
import { Mesh, PASSWORD, until } from '../support/mesh.js';

let cluster: NatsCluster;
let mesh: Mesh;

beforeAll(async () => {
  cluster = await NatsCluster.start(3);
  mesh = await Mesh.start({
    natsUrl: cluster.url,
    issuer: 'http://auth.cluster.test',
    echoes: 2,
    authEnv: { AUTHMESH_NATS_REPLICAS: '3' },
    echoEnv: { AUTHMESH_MAX_STALENESS_MS: '10000' },
  });
}, 120_000);

afterAll(async () => {
  await mesh?.stop();
  await cluster?.stop();
});

/** Retries `f` until it returns OK (a client may need one reconnect or a new stream leader); bounded. */
const seen = new Map<string, number>();
async function eventually<T>(
  f: () => Promise<{ code: number; res?: T; details: string }>,
  what: string,
  ms = 20_000,
): Promise<T> {
  let last = { code: -1, details: '' } as { code: number; res?: T; details: string };
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    last = await f();
    if (last.code !== 0)
      seen.set(
        `${grpc.status[last.code]} (${last.details})`,
        (seen.get(`${grpc.status[last.code]} (${last.details})`) ?? 0) + 1,
      );
    if (last.code === 0) return last.res!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: status ${last.code} (${last.details}) after ${ms} ms`);
}

describe('one node of a 3-node NATS cluster killed', () => {
  it('logins, refreshes and revocations keep working, and nothing acknowledged is lost when the node returns', async () => {
    const admin = await mesh.adminToken();
    const before = await mesh.login();
    const victimBefore = await mesh.clientToken('svc');
    expect(
      (await mesh.authCall('Revoke', { jti: decodeJwt(victimBefore).jti, reason: 'before' }, admin)).code,
    ).toBe(0);

    // The worst node to lose: the leader of the revocation stream (a new leader must be elected).
    const nc = await connect({ servers: cluster.url.split(',') });
    const leader = (await (await nc.jetstreamManager()).streams.info('AUTHMESH_REVOCATIONS')).cluster?.leader;
    await nc.close();
    const index = leader ? Number(/^n(\d)$/.exec(leader)?.[1] ?? 1) - 1 : 0;
    const killed = cluster.nodes[index]!;
    killed.kill();
    const t0 = performance.now();
    // Logins and refreshes through the surviving majority.
    const login = await eventually<TokenResponse__Output>(
      () =>
        mesh.authCall('IssueToken', {
          password: { username: 'alice', password: PASSWORD },
          audience: ['echo'],
        }),
      'login with a node down',
    );
    const loginMs = performance.now() - t0;
    const refreshed = await eventually<TokenResponse__Output>(
      () => mesh.authCall('Refresh', { refresh_token: login.refresh_token }),
      'refresh with a node down',
    );
    const victim = await mesh.clientToken('svc');
    for (const i of [0, 1]) expect((await mesh.echo('WhoAmI', victim, { i })).code).toBe(0);
    // A revocation with a node down propagates to both echoes.
    const t1 = performance.now();
    await eventually(
      () => mesh.authCall('Revoke', { jti: decodeJwt(victim).jti, reason: 'node down' }, admin),
      'revoke with a node down',
    );
    const revokeMs = performance.now() - t1;
    const propagation: number[] = [];
    for (const i of [0, 1]) {
      propagation.push(
        await until(
          async () => (await mesh.echo('WhoAmI', victim, { i })).code === grpc.status.UNAUTHENTICATED,
          10_000,
          `echo ${i}: revocation with a node down`,
        ),
      );
    }
    // Tokens from before the kill and after it still work (nothing else was revoked).
    for (const t of [before.access_token, refreshed.access_token])
      for (const i of [0, 1]) expect((await mesh.echo('WhoAmI', t, { i })).code).toBe(0);
    console.log(
      `[faults/cluster] node ${killed.url} (${leader ?? '?'}, the revocation stream leader) killed: first login OK after ${loginMs.toFixed(0)} ms, Revoke acked in ${revokeMs.toFixed(0)} ms, enforced on the echoes ${propagation.map((p) => p.toFixed(0)).join(' / ')} ms after; refusals while failing over: ${[...seen].map(([k, n]) => `${k} × ${n}`).join(', ') || 'none'}`,
    );

    await killed.restart();
    // Everything revoked stays revoked; the refresh chain goes on.
    for (const v of [victimBefore, victim])
      for (const i of [0, 1])
        expect((await mesh.echo('WhoAmI', v, { i })).code).toBe(grpc.status.UNAUTHENTICATED);
    await eventually(
      () => mesh.authCall('Refresh', { refresh_token: refreshed.refresh_token }),
      'refresh after the node returned',
    );
    // A late echo started now replays the stream from the cluster and enforces both revocations.
    const late = await mesh.startEcho();
    for (const v of [victimBefore, victim])
      expect((await mesh.echo('WhoAmI', v, { i: mesh.echoes.indexOf(late) })).code).toBe(
        grpc.status.UNAUTHENTICATED,
      );
  });
});
