// The auth service unreachable for JWKS: an echo whose AUTHMESH_AUTH_TARGET goes through a proxy that
// is then cut (refused: a dead process; blackholed: a partition). Known keys keep verifying (warm and
// cold tokens); a token with an unknown kid is answered UNAUTHENTICATED within a bound, never left
// hanging, and the service keeps serving while such tokens arrive in bulk.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { Mesh } from '../support/mesh.js';
import { startProxy, type TcpProxy } from '../support/proxy.js';

const ISSUER = 'http://auth.jwks.test';
let nats: NatsServer;
let mesh: Mesh;
let proxy: TcpProxy;
let echoIndex = 0;
const attacker = generateKeyPairSync('ed25519').privateKey;

/** A token signed by a key nobody published, under a fresh kid: the key store must look it up. */
function unknownKid(): string {
  const now = Math.floor(Date.now() / 1000);
  const h = Buffer.from(
    JSON.stringify({ alg: 'EdDSA', kid: randomBytes(8).toString('base64url'), typ: 'at+jwt' }),
  ).toString('base64url');
  const p = Buffer.from(
    JSON.stringify({
      iss: ISSUER,
      sub: 'x',
      aud: 'echo',
      exp: now + 300,
      iat: now,
      jti: randomBytes(16).toString('base64url'),
      client_id: 'c',
    }),
  ).toString('base64url');
  return `${h}.${p}.${sign(null, Buffer.from(`${h}.${p}`), attacker).toString('base64url')}`;
}

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({ natsUrl: nats.url, issuer: ISSUER, echoes: 0 });
  proxy = await startProxy(mesh.auth.grpc);
  const e = await mesh.startEcho({ AUTHMESH_AUTH_TARGET: proxy.address });
  echoIndex = mesh.echoes.indexOf(e);
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
  await proxy?.close();
  await nats?.stop();
});

const who = async (token: string) => {
  const t0 = performance.now();
  const r = await mesh.echo('WhoAmI', token, { i: echoIndex });
  return { code: r.code, ms: performance.now() - t0 };
};

describe('auth service unreachable for JWKS', () => {
  // Blackhole first: after a refused connection the channel sits in TRANSIENT_FAILURE and fails fast,
  // which would hide the hang a blackhole can cause.
  for (const mode of ['blackhole', 'refuse'] as const) {
    it(
      `${mode}: known keys keep verifying; an unknown kid is UNAUTHENTICATED within 3 s, not a hang`,
      { timeout: 30_000 },
      async () => {
        const warm = await mesh.clientToken('svc');
        const cold = await mesh.clientToken('svc'); // minted now, presented only after the cut
        expect((await who(warm)).code).toBe(0);
        proxy.mode = mode;
        proxy.cut();
        try {
          expect((await who(warm)).code).toBe(0);
          expect((await who(cold)).code).toBe(0);
          // Past the key store's refresh cooldown (5 s default), so the first unknown kid really triggers
          // a JWKS fetch, which cannot succeed.
          await new Promise((r) => setTimeout(r, 5500));
          const first = await who(unknownKid());
          // A burst of unknown kids while the service keeps answering valid calls at once.
          const burst = await Promise.all(Array.from({ length: 30 }, () => who(unknownKid())));
          const valid = await who(warm);
          console.log(
            `[faults/jwks] ${mode}: first unknown kid → ${grpc.status[first.code]} in ${first.ms.toFixed(0)} ms; burst of 30 → slowest ${Math.max(...burst.map((b) => b.ms)).toFixed(0)} ms; a valid call meanwhile ${valid.ms.toFixed(0)} ms`,
          );
          expect(first.code).toBe(grpc.status.UNAUTHENTICATED);
          expect(first.ms).toBeLessThan(3000);
          for (const b of burst) {
            expect(b.code).toBe(grpc.status.UNAUTHENTICATED);
            expect(b.ms).toBeLessThan(3000);
          }
          expect(valid.code).toBe(0);
          expect(mesh.echoes[echoIndex]!.proc.running).toBe(true);
        } finally {
          proxy.mode = 'forward';
        }
      },
    );
  }
});
