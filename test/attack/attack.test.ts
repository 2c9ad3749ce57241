// The attack corpus (corpus.ts) against a real echo process, with the real auth service and a real
// nats-server: every negative row must be answered UNAUTHENTICATED, never echo the token, and leave the
// service up (Ping + a valid WhoAmI after each batch); positive controls keep the suite from passing by
// rejecting everything.
import { createPublicKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { decodeJwt } from 'jose';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { rawGrpcCall } from '../support/h2.js';
import { Mesh, until } from '../support/mesh.js';
import { signers } from './forge.js';
import { batches, type Ctx, type Row } from './corpus.js';

const ISSUER = 'http://auth.attack.test';
let nats: NatsServer;
let mesh: Mesh;
let ctx: Ctx;

async function revocationEvent(): Promise<string> {
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await nc.jetstreamManager();
    const msg = await jsm.streams.getMessage('AUTHMESH_REVOCATIONS', { seq: 1 });
    return Buffer.from(msg.data).toString().trim();
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({ natsUrl: nats.url, issuer: ISSUER });
  const { kid, key } = await mesh.signingKey();
  const pub = createPublicKey(key);
  const jwk = pub.export({ format: 'jwk' });
  const login = await mesh.login();
  const admin = await mesh.adminToken();
  const revoked = await mesh.clientToken('svc');
  expect((await mesh.echo('WhoAmI', revoked)).code).toBe(0);
  expect(
    (await mesh.authCall('Revoke', { jti: decodeJwt(revoked).jti, reason: 'attack corpus' }, admin)).code,
  ).toBe(0);
  await until(
    async () => (await mesh.echo('WhoAmI', revoked)).code === grpc.status.UNAUTHENTICATED,
    5000,
    'revocation applied',
  );
  ctx = {
    issuer: ISSUER,
    kid,
    real: signers.ed(key),
    publicPem: pub.export({ format: 'pem', type: 'spki' }).toString(),
    publicRaw: Buffer.from(jwk.x!, 'base64url'),
    publicJwkJson: JSON.stringify({ ...jwk, kid, alg: 'EdDSA', use: 'sig' }),
    valid: login.access_token,
    validB: await mesh.clientToken('svc'),
    refresh: login.refresh_token,
    revocationEvent: await revocationEvent(),
    revoked,
    otherAudience: (
      await mesh.issue({ client_credentials: { client_id: 'svc', client_secret: mesh.secrets.svc! } })
    ).access_token,
  };
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
  await nats?.stop();
});

async function send(row: Row): Promise<{ code: number; details: string; sent: string }> {
  if (row.token) {
    const token = row.token(ctx);
    return { ...(await mesh.echo('WhoAmI', token)), sent: token };
  }
  if (row.raw) {
    const headers = row.raw(ctx);
    return {
      ...(await rawGrpcCall(mesh.echoes[0]!.proc.grpc, '/echo.v1.Echo/WhoAmI', headers)),
      sent: Object.values(headers).flat().join(' '),
    };
  }
  const md = new grpc.Metadata();
  const pairs = row.metadata!(ctx);
  for (const [k, v] of pairs) md.add(k, v);
  return {
    ...(await mesh.echo('WhoAmI', undefined, { metadata: md })),
    sent: pairs.map(([, v]) => String(v)).join(' '),
  };
}

const counted = { reject: 0, accept: 0 };
for (const [batch, rows] of Object.entries(batches)) {
  describe(`attack corpus: ${batch}`, () => {
    it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
      const r = await send(row);
      const want = row.expect === 'accept' ? 0 : grpc.status.UNAUTHENTICATED;
      expect(r.code, `${row.name} [${row.source}]: ${r.details}`).toBe(want);
      // Details are short and never echo the token (DESIGN.md).
      expect(r.details.length).toBeLessThan(200);
      for (const part of r.sent.split(/[.\s]/)) if (part.length >= 16) expect(r.details).not.toContain(part);
      counted[row.expect]++;
    });
    it('the service is still up: Ping, a valid WhoAmI, process running', async () => {
      expect(mesh.echoes[0]!.proc.running).toBe(true);
      expect((await mesh.echo('Ping')).code).toBe(0);
      const who = await mesh.echo<{ sub: string }>('WhoAmI', ctx.valid);
      expect(who.code).toBe(0);
      expect(who.res!.sub).toBe('alice');
    });
  });
}

describe('attack corpus: the auth service side', () => {
  it('an access token used as a refresh token is refused (INVALID_ARGUMENT: not refresh-token shaped), not INTERNAL', async () => {
    const r = await mesh.authCall('Refresh', { refresh_token: ctx.valid });
    expect([grpc.status.INVALID_ARGUMENT, grpc.status.UNAUTHENTICATED]).toContain(r.code);
    expect(r.details).not.toContain(ctx.valid.slice(0, 40));
  });
  it('a forged refresh token (random, right length) is UNAUTHENTICATED', async () => {
    const r = await mesh.authCall('Refresh', { refresh_token: 'A'.repeat(ctx.refresh.length) });
    expect(r.code).toBe(grpc.status.UNAUTHENTICATED);
  });
  it('counted both kinds of row (the suite is not vacuous)', () => {
    const total = Object.values(batches).reduce((n, rows) => n + rows.length, 0);
    console.log(
      `[attack] ${counted.reject} negative rows rejected, ${counted.accept} positive controls accepted (${total} rows)`,
    );
    expect(counted.accept).toBeGreaterThanOrEqual(10);
    expect(counted.reject).toBeGreaterThanOrEqual(150);
  });
});
