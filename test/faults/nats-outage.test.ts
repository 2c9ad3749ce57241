// NATS killed and restarted under call load, shorter than the staleness bound. What
// test/revocation-faults.test.ts already proves is not repeated here (an outage past the bound:
// reject → UNAVAILABLE, allow → served; a revocation before the kill and the first one after the
// restart enforced). This suite adds: continuous call load through the outage (every call OK: warm
// tokens keep being served within the bound, nothing else is refused), Revoke calls made DURING the
// outage (each one either fails, or — if it returned OK — is enforced after recovery), and every
// revocation acknowledged around the outage enforced on both echoes afterwards.
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { until } from '../support/mesh.js';
import { meshSuite } from '../support/mesh-suite.js';
import { codesBetween, show, startLoad } from './load.js';

const BOUND_MS = 6000;
const suite = meshSuite(
  {
    issuer: 'http://auth.nats-outage.test',
    echoes: 2,
    echoEnv: { AUTHMESH_MAX_STALENESS_MS: String(BOUND_MS), AUTHMESH_STALE_POLICY: 'reject' },
  },
  90_000,
);

describe('NATS outage under call load (shorter than the staleness bound)', () => {
  it('serves every warm call through the outage, and loses no acknowledged revocation', async () => {
    const admin = await suite.mesh.adminToken();
    const warm = await Promise.all(Array.from({ length: 6 }, () => suite.mesh.clientToken('svc')));
    const victims = await Promise.all(Array.from({ length: 6 }, () => suite.mesh.clientToken('svc')));
    for (const t of [...warm, ...victims])
      for (const i of [0, 1]) expect((await suite.mesh.echo('WhoAmI', t, { i })).code).toBe(0);
    const revoke = (t: string, reason: string) =>
      suite.mesh.authCall('Revoke', { jti: decodeJwt(t).jti, reason }, admin, 2000);

    const load = startLoad(
      (i) => suite.mesh.echo('WhoAmI', warm[i % warm.length], { i: i % 2 }).then((r) => r.code),
      8,
    );
    const acked: string[] = [];
    try {
      await new Promise((r) => setTimeout(r, 500));
      // Just before the kill.
      if ((await revoke(victims[0]!, 'before')).code === 0) acked.push(victims[0]!);
      const tKill = performance.now();
      suite.nats.kill();
      // During the outage: each Revoke must come back (bounded), OK or not.
      const t0 = performance.now();
      const during = await Promise.all(
        victims.slice(1, 4).map(async (v, k) => {
          await new Promise((res) => setTimeout(res, 100 * k));
          const r = await suite.mesh.authCall(
            'Revoke',
            { jti: decodeJwt(v).jti, reason: 'during' },
            admin,
            1500,
          );
          if (r.code === 0) acked.push(v);
          return r.code;
        }),
      );
      expect(performance.now() - t0).toBeLessThan(2500);
      const outageMs = 2000;
      await new Promise((r) => setTimeout(r, Math.max(0, tKill + outageMs - performance.now())));
      await suite.nats.restart();
      const tBack = performance.now();
      // Right after the restart: retry until acknowledged (the auth service reconnects).
      for (const v of victims.slice(4)) {
        let code = -1;
        const t0 = performance.now();
        while (code !== 0 && performance.now() - t0 < 15_000) {
          code = (await revoke(v, 'after')).code;
          if (code !== 0) await new Promise((r) => setTimeout(r, 100));
        }
        expect(code).toBe(0);
        acked.push(v);
      }
      await new Promise((r) => setTimeout(r, 1000));
      await load.stop();
      const names = grpc.status as unknown as Record<number, string>;
      const outage = codesBetween(load.samples, tKill, tBack);
      const after = codesBetween(load.samples, tBack, Infinity);
      console.log(
        `[faults/nats] calls during the ${(tBack - tKill).toFixed(0)} ms outage: ${show(outage, names)}; after: ${show(after, names)}; Revoke during the outage: ${during.map((c) => names[c]).join(', ')}`,
      );
      // Every call of the load was OK: within the bound, warm tokens are served and nothing else is refused.
      expect([...codesBetween(load.samples, 0, Infinity).keys()]).toEqual([0]);
      expect(outage.get(0) ?? 0).toBeGreaterThan(20);
    } finally {
      await load.stop();
    }
    // Every revocation that returned OK, before, during or after the outage, is enforced on both echoes.
    for (const v of acked) {
      for (const i of [0, 1]) {
        await until(
          async () => (await suite.mesh.echo('WhoAmI', v, { i })).code === grpc.status.UNAUTHENTICATED,
          10_000,
          `acknowledged revocation on echo ${i}`,
        );
      }
    }
    console.log(
      `[faults/nats] ${acked.length} acknowledged revocations, all enforced on both echoes after recovery`,
    );
    // And the warm tokens that were never revoked still work.
    for (const t of warm) expect((await suite.mesh.echo('WhoAmI', t)).code).toBe(0);
  });
});
