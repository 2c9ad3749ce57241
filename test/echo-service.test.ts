// The echo service as a real process (from dist) against real NATS and an in-process fake issuer
// (GetJwks, client_credentials, ExchangeToken): the reference service's behaviour, independent of
// the auth service. The full mesh with the real auth service is test/echo-mesh.test.ts.
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SignJWT, exportJWK } from 'jose';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc, echoGrpc, type AuthServiceHandlers, type EchoClient } from '@authmesh/proto';
import { signRevocationEvent } from '@authmesh/interceptor';
import { NatsServer, ServiceProcess, repoRoot } from '@authmesh/testing';
import { unary } from './support/mesh.js';

const issuer = 'http://issuer.test';
const kid = 'k1';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519').privateKey;
const now = () => Math.floor(Date.now() / 1000);

interface Claims {
  sub?: string;
  aud?: string | string[];
  scope?: string;
  exp?: number;
  iat?: number;
  act?: object;
  client_id?: string;
  roles?: string[];
  sid?: string;
}
function mint(c: Claims = {}, key: KeyObject = privateKey, header: object = {}): Promise<string> {
  const iat = c.iat ?? now();
  return new SignJWT({
    client_id: 'cli',
    scope: 'echo:read',
    roles: ['dev'],
    sid: 's1',
    ...c,
    iat,
    exp: c.exp ?? iat + 300,
  })
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt', ...header })
    .setIssuer(issuer)
    .setSubject(c.sub ?? 'alice')
    .setAudience(c.aud ?? 'echo')
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key);
}
const claimsOf = (t: string) =>
  JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

let nats: NatsServer;
let fakeAuth: grpc.Server;
let echo: ServiceProcess;
let echoB: ServiceProcess;
let client: EchoClient;
const exchanges: { subject: string; audience: string; caller: string }[] = [];
/** What echo asked for in each client_credentials grant of its own identity. */
const grants: { audience: string[]; scope: string[] }[] = [];

async function startFakeIssuer(): Promise<string> {
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
  const handlers: AuthServiceHandlers = {
    GetJwks: (_c, cb) => cb(null, { keys_json: JSON.stringify({ keys: [jwk] }) }),
    IssueToken: async (call, cb) => {
      if (call.request.grant !== 'client_credentials') return cb({ code: grpc.status.INVALID_ARGUMENT });
      grants.push({ audience: call.request.audience, scope: call.request.scope });
      const t = await mint({ sub: 'echo-relay', client_id: 'echo-relay', aud: 'authmesh', scope: '' });
      cb(null, { access_token: t, token_type: 'Bearer', expires_in: 300 });
    },
    ExchangeToken: async (call, cb) => {
      const caller = String(call.metadata.get('authorization')[0] ?? '').replace(/^Bearer /, '');
      const subject = claimsOf(call.request.subject_token);
      exchanges.push({
        subject: String(subject.sub),
        audience: call.request.audience,
        caller: String(claimsOf(caller).sub),
      });
      const act = { sub: String(claimsOf(caller).client_id), ...(subject.act ? { act: subject.act } : {}) };
      const t = await mint({
        sub: String(subject.sub),
        aud: call.request.audience,
        scope: String(subject.scope),
        act,
      });
      cb(null, { access_token: t, token_type: 'Bearer', expires_in: 300 });
    },
    Refresh: (_c, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    Revoke: (_c, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    GetMeshStatus: (_c, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
    GetMeshKey: (_c, cb) => cb({ code: grpc.status.UNIMPLEMENTED }),
  };
  fakeAuth = new grpc.Server();
  fakeAuth.addService(authGrpc().authmesh.v1.AuthService.service, handlers);
  const port = await new Promise<number>((res, rej) =>
    fakeAuth.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? rej(e) : res(p),
    ),
  );
  return `127.0.0.1:${port}`;
}

const startEcho = (authTarget: string, audience: string) =>
  ServiceProcess.start({
    name: `echo (${audience})`,
    args: [join(repoRoot, 'services/echo/dist/main.js')],
    env: {
      ECHO_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_AUDIENCE: audience,
      AUTHMESH_ISSUER: issuer,
      AUTHMESH_AUTH_TARGET: authTarget,
      NATS_URL: nats.url,
      AUTHMESH_CLIENT_ID: 'echo-relay',
      AUTHMESH_CLIENT_SECRET: 'relay-secret',
    },
  });

beforeAll(async () => {
  nats = await NatsServer.start();
  const nc = await connect({ servers: nats.url });
  await (
    await nc.jetstreamManager()
  ).streams.add({ name: 'AUTHMESH_REVOCATIONS', subjects: ['authmesh.revoked.>'] });
  await nc.close();
  const authTarget = await startFakeIssuer();
  [echo, echoB] = await Promise.all([startEcho(authTarget, 'echo'), startEcho(authTarget, 'echo-b')]);
  client = new (echoGrpc().echo.v1.Echo)(echo.grpc, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await Promise.all([echo?.stop(), echoB?.stop()]);
  await new Promise<void>((r) => (fakeAuth ? fakeAuth.tryShutdown(() => r()) : r()));
  await nats?.stop();
});

/** A unary echo call with a 5 s deadline; rejects with the grpc.ServiceError. */
const call = <T>(
  method: 'WhoAmI' | 'Admin' | 'Relay' | 'Ping',
  req: object,
  token?: string,
  c: EchoClient = client,
): Promise<T> => unary<T>(c, method, req, token, 5000);
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 0,
    (e: grpc.ServiceError) => e.code,
  );

describe('echo service', () => {
  it('answers Ping without a token (public rule)', async () => {
    expect(await call('Ping', { message: 'x' })).toEqual({ message: 'pong: x' });
  });

  it('shows the verified principal on WhoAmI', async () => {
    const t = await mint({ scope: 'echo:read echo:admin', act: { sub: 'gw', act: { sub: 'edge' } } });
    expect(await call('WhoAmI', {}, t)).toMatchObject({
      sub: 'alice',
      scopes: ['echo:read', 'echo:admin'],
      roles: ['dev'],
      sid: 's1',
      client_id: 'cli',
      aud: ['echo'],
      act: [{ sub: 'gw' }, { sub: 'edge' }],
      jti: claimsOf(t).jti,
    });
  });

  it('rejects missing, malformed, forged, expired and wrong-audience tokens with UNAUTHENTICATED', async () => {
    const codes = await Promise.all([
      codeOf(call('WhoAmI', {})),
      codeOf(call('WhoAmI', {}, 'not.a.jwt')),
      codeOf(call('WhoAmI', {}, await mint({}, other))),
      codeOf(call('WhoAmI', {}, await mint({ iat: now() - 1000, exp: now() - 100 }))),
      codeOf(call('WhoAmI', {}, await mint({ aud: 'echo-b' }))),
      codeOf(call('WhoAmI', {}, await mint({}, privateKey, { typ: 'JWT' }))),
    ]);
    expect(codes).toEqual([16, 16, 16, 16, 16, 16]);
  });

  it('requires echo:admin for Admin (PERMISSION_DENIED without it)', async () => {
    expect(await codeOf(call('Admin', {}, await mint({ scope: 'echo:read' })))).toBe(
      grpc.status.PERMISSION_DENIED,
    );
    expect(await call('Admin', {}, await mint({ scope: 'echo:admin' }))).toEqual({ status: 'ok' });
  });

  it('streams the principal count times, and checks the stream too', async () => {
    const t = await mint();
    const subs: string[] = [];
    await new Promise<void>((res, rej) => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${t}`);
      const s = client.StreamWhoAmI({ count: 3, interval_ms: 10 }, md);
      s.on('data', (p: { sub: string }) => subs.push(p.sub));
      s.on('error', rej);
      s.on('end', res);
    });
    expect(subs).toEqual(['alice', 'alice', 'alice']);
    const err = await new Promise<grpc.ServiceError>((res) => {
      const s = client.StreamWhoAmI({ count: 1 });
      s.on('data', () => {});
      s.on('error', res);
      s.on('end', () => res({ code: 0 } as grpc.ServiceError));
    });
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    const bad = await new Promise<grpc.ServiceError>((res) => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${t}`);
      const s = client.StreamWhoAmI({ count: 1000 }, md);
      s.on('data', () => {});
      s.on('error', res);
      s.on('end', () => res({ code: 0 } as grpc.ServiceError));
    });
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('Relay exchanges the token for the downstream audience: same sub, aud echo-b, act chain', async () => {
    const t = await mint({ act: { sub: 'gw' } });
    const seen = await call<{ sub: string; aud: string[]; act: { sub: string }[] }>(
      'Relay',
      { target: echoB.grpc, audience: 'echo-b' },
      t,
    );
    expect(seen).toMatchObject({
      sub: 'alice',
      aud: ['echo-b'],
      act: [{ sub: 'echo-relay' }, { sub: 'gw' }],
    });
    expect(exchanges.at(-1)).toEqual({ subject: 'alice', audience: 'echo-b', caller: 'echo-relay' });
    // Least privilege: echo's own identity asks for the exchange scope alone, for the auth service's
    // default audience (none named), never for every scope its client is allowed.
    expect(grants.length).toBeGreaterThan(0);
    for (const g of grants) expect(g).toEqual({ audience: [], scope: ['authmesh:exchange'] });
    // The original token is not valid at echo-b.
    const b = new (echoGrpc().echo.v1.Echo)(echoB.grpc, grpc.credentials.createInsecure());
    try {
      expect(await codeOf(call('WhoAmI', {}, t, b))).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      b.close();
    }
    expect(await codeOf(call('Relay', { target: '', audience: 'echo-b' }, t))).toBe(
      grpc.status.INVALID_ARGUMENT,
    );
  });

  it('rejects a token once its jti revocation arrives over NATS', async () => {
    const t = await mint();
    await call('WhoAmI', {}, t);
    const jti = String(claimsOf(t).jti);
    const at = now();
    const jws = await signRevocationEvent(
      { v: 1, kind: 'jti', value: jti, at, exp: at + 600, reason: 'test' },
      { kid, alg: 'EdDSA', privateKey },
      issuer,
    );
    const nc = await connect({ servers: nats.url });
    const t0 = Date.now();
    try {
      await nc.jetstream().publish(`authmesh.revoked.jti`, new TextEncoder().encode(jws));
    } finally {
      await nc.close();
    }
    let code = 0;
    for (let i = 0; i < 100 && code === 0; i++) {
      code = await codeOf(call('WhoAmI', {}, t));
      if (code === 0) await new Promise((r) => setTimeout(r, 20));
    }
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('shuts down gracefully on SIGTERM (exit code 0)', async () => {
    expect(await echoB.stop()).toBe(0);
  });
});
