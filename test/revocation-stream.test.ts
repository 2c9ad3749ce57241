// The revocation stream as real processes meet it (issue 11): a stream whose events have all aged out
// (a restarted auth service and a new echo must be ready at once), and a stream call open while NATS is
// down (under `reject` it ends with UNAVAILABLE once the feed turns stale).
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { connect, nanos } from 'nats';
import { describe, expect, it } from 'vitest';
import { until } from './support/mesh.js';
import { meshSuite } from './support/mesh-suite.js';

const STREAM = 'AUTHMESH_REVOCATIONS';

describe('a revocation stream whose events have all aged out', () => {
  const suite = meshSuite({ issuer: 'http://auth.revocation-stream-aged.test' });

  it('a restarted auth service answers Revoke and a new echo serves within seconds', async () => {
    const { mesh, nats } = suite;
    const admin = await mesh.adminToken();
    const victim = await mesh.clientToken('svc');
    expect((await mesh.authCall('Revoke', { jti: decodeJwt(victim).jti, reason: 't' }, admin)).code).toBe(0);

    // Age every event out (an operator's short max age; the auth service raises it again on start).
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await nc.jetstreamManager();
      const info = await jsm.streams.info(STREAM);
      await jsm.streams.update(STREAM, {
        ...info.config,
        max_age: nanos(1000),
        duplicate_window: nanos(1000),
      });
      await until(async () => (await jsm.streams.info(STREAM)).state.messages === 0, 15_000, 'aged out');
      const state = (await jsm.streams.info(STREAM)).state;
      expect(state.first_seq).toBeGreaterThan(state.last_seq);
    } finally {
      await nc.close();
    }

    await mesh.auth.stop();
    await mesh.startAuth();
    const t0 = performance.now();
    const revokeMs = await until(
      async () =>
        (
          await mesh.authCall(
            'Revoke',
            { jti: 'x-' + Date.now(), reason: 't' },
            await mesh.adminToken(),
            2000,
          )
        ).code === 0,
      10_000,
      'Revoke on the restarted auth service',
    );
    console.log(
      `[revocation-stream] restarted auth service: Revoke OK ${revokeMs.toFixed(0)} ms after listening`,
    );

    const e0 = performance.now();
    const echo = await mesh.startEcho();
    const echoMs = performance.now() - e0;
    console.log(`[revocation-stream] new echo listening ${echoMs.toFixed(0)} ms after start`);
    expect(echoMs).toBeLessThan(10_000);
    expect(performance.now() - t0).toBeLessThan(20_000);
    const r = await mesh.echo('WhoAmI', await mesh.clientToken('svc'), { i: mesh.echoes.indexOf(echo) });
    expect(r.code).toBe(0);
  }, 60_000);
});

describe('a stream call open while NATS is down', () => {
  const BOUND_MS = 2000;
  const suite = meshSuite({
    issuer: 'http://auth.revocation-stream-open.test',
    echoEnv: { AUTHMESH_MAX_STALENESS_MS: String(BOUND_MS), AUTHMESH_STALE_POLICY: 'reject' },
  });

  it('ends with UNAVAILABLE once the feed turns stale (reject)', async () => {
    const { mesh, nats } = suite;
    const token = await mesh.clientToken('svc');
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const client = mesh.echoes[0]!.client as unknown as {
      StreamWhoAmI(req: object, md: grpc.Metadata): grpc.ClientReadableStream<unknown>;
    };
    const stream = client.StreamWhoAmI({ count: 100, interval_ms: 200 }, md);
    let messages = 0;
    const ended = new Promise<{ code: number; at: number }>((resolve) => {
      stream.on('data', () => messages++);
      stream.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, at: performance.now() }));
      stream.on('end', () => resolve({ code: 0, at: performance.now() }));
    });
    await until(async () => messages > 0, 5000, 'first message');
    const tKill = performance.now();
    nats.kill();
    try {
      const end = await ended;
      const afterMs = end.at - tKill;
      console.log(
        `[revocation-stream] open stream ended ${afterMs.toFixed(0)} ms after the kill, code ${end.code}`,
      );
      expect(end.code).toBe(grpc.status.UNAVAILABLE);
      expect(afterMs).toBeLessThan(BOUND_MS + 4000);
      expect(messages).toBeLessThan(100);
    } finally {
      stream.cancel();
      await nats.restart();
    }
  }, 60_000);
});
