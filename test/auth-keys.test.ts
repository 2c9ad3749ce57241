import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc, type AuthServiceClient, type TokenResponse__Output } from '@authmesh/proto';
import { freePort, NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, runCli, unary } from './support/mesh.js';

// Cross-process: the auth service and the CLI run from dist (build first: `npm run build`).
const kek = randomBytes(32).toString('base64url');
const secret = randomBytes(32).toString('base64url');

let nats: NatsServer;
let env: Record<string, string>;
let auth: ServiceProcess | undefined;

/** The CLI with this file's env, killed after 15 s. */
const cli = (args: string[], stdin = '') => runCli(env, args, stdin, 15_000);

function startAuth(extra: Record<string, string | undefined> = {}): Promise<ServiceProcess> {
  return ServiceProcess.start({ args: [authBin, 'serve'], env: { ...env, ...extra }, name: 'auth' });
}

async function issue(service: ServiceProcess): Promise<string> {
  const { AuthService } = authGrpc().authmesh.v1;
  const client = new AuthService(
    service.grpc,
    grpc.credentials.createInsecure(),
  ) as unknown as AuthServiceClient;
  try {
    const res = await unary<TokenResponse__Output>(
      client,
      'IssueToken',
      {
        client_credentials: { client_id: 'svc-a', client_secret: secret },
        audience: ['echo'],
        scope: ['echo:read'],
      },
      undefined,
      5000,
    );
    expect(res.token_type).toBe('Bearer');
    return res.access_token;
  } finally {
    client.close();
  }
}

/** Verifies like an off-the-shelf validator: discovery document → jwks_uri → jose remote JWKS. */
async function verifyViaDiscovery(service: ServiceProcess, token: string) {
  const doc = (await (await fetch(`http://${service.http}/.well-known/openid-configuration`)).json()) as {
    issuer: string;
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(doc.jwks_uri));
  return jwtVerify(token, jwks, {
    issuer: doc.issuer,
    audience: 'echo',
    typ: 'at+jwt',
    algorithms: ['EdDSA'],
  });
}

beforeAll(async () => {
  nats = await NatsServer.start();
  // A fixed HTTP port keeps the issuer (it follows the HTTP address) the same across the restart below.
  env = {
    NATS_URL: nats.url,
    AUTHMESH_KEK: kek,
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: `127.0.0.1:${await freePort()}`,
    AUTHMESH_SCRYPT_N: '1024',
    LOG_LEVEL: 'warn',
  };
  auth = await startAuth();
  const added = await cli(
    ['client', 'add', 'svc-a', '--scopes', 'echo:read', '--audiences', 'echo', '--secret-stdin'],
    secret,
  );
  expect(added.code, added.stderr).toBe(0);
  expect(added.stdout).not.toContain(secret);
});

afterAll(async () => {
  await auth?.stop();
  await nats?.stop();
});

describe('auth service keys, cross-process', () => {
  it('publishes discovery + JWKS that plain jose uses to verify an issued token', async () => {
    const token = await issue(auth!);
    const { payload, protectedHeader } = await verifyViaDiscovery(auth!, token);
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      iss: `http://${auth!.http}`,
      sub: 'svc-a',
      client_id: 'svc-a',
      scope: 'echo:read',
    });
    const ready = await fetch(`http://${auth!.http}/readyz`);
    expect(ready.status).toBe(200);
    // The mode is visible to probes and scrapes: production, the default.
    expect(await ready.json()).toMatchObject({ status: 'ready', mode: 'production' });
    const metrics = await (await fetch(`http://${auth!.http}/metrics`)).text();
    expect(metrics).toMatch(/^authmesh_tokens_issued_total\{kid="[\w-]+"\} [1-9]/m);
    expect(metrics).toMatch(/^authmesh_auth_mode\{mode="production"\} 1$/m);
    expect(metrics).toMatch(/^# TYPE authmesh_records_refused_total counter$/m);
    expect(metrics).not.toContain(token);

    const inspected = await cli(['token', 'inspect', '-'], token);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ verified: true, claims: { sub: 'svc-a' } });
    expect(inspected.stdout).not.toContain(token.split('.')[2]!);
    const viaUri = await cli([
      'token',
      'inspect',
      token,
      '--jwks-uri',
      `http://${auth!.http}/.well-known/jwks.json`,
      '--audience',
      'other',
    ]);
    expect(viaUri.code).toBe(1);
    expect(JSON.parse(viaUri.stdout)).toMatchObject({
      verified: false,
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
    });
    const tampered = await cli(['token', 'inspect', `${token.slice(0, -4)}AAAA`]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ verified: false });
  });

  it('keys rotate: earlier tokens keep verifying, new tokens carry the new kid; a restart keeps both', async () => {
    const before = await issue(auth!);
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await cli(['keys', 'rotate']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const { previous, current } = JSON.parse(rotated.stdout) as { previous: string; current: string };
    expect(previous).toBe(oldKid);
    expect(current).not.toBe(oldKid);
    const listed = await cli(['keys', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kid: string; state: string });
    expect(rows.find((r) => r.kid === current)?.state).toBe('current');
    expect(rows.find((r) => r.kid === oldKid)?.state).toBe('retired');
    expect(rows.filter((r) => r.state === 'next')).toHaveLength(1);
    expect(listed.stdout).not.toMatch(/sealed|"d"/);

    // The running service follows the ring through its KV watch (bounded wait).
    let after = await issue(auth!);
    for (let i = 0; i < 50 && decodeProtectedHeader(after).kid !== current; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await issue(auth!);
    }
    expect(decodeProtectedHeader(after).kid).toBe(current);
    await expect(verifyViaDiscovery(auth!, before)).resolves.toBeTruthy();
    await expect(verifyViaDiscovery(auth!, after)).resolves.toBeTruthy();

    // SIGTERM → graceful shutdown → exit 0.
    expect(await auth!.stop()).toBe(0);
    auth = await startAuth();
    await expect(verifyViaDiscovery(auth, before)).resolves.toBeTruthy();
    await expect(verifyViaDiscovery(auth, after)).resolves.toBeTruthy();
    expect(decodeProtectedHeader(await issue(auth)).kid).toBe(current);
  });

  it('without AUTHMESH_KEK (production is the default) it refuses to start and says what to set', async () => {
    const err = await startAuth({ AUTHMESH_KEK: '', AUTHMESH_ENV: '' }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/exited \(1\) before listening/);
    expect(err?.message).toMatch(/AUTHMESH_KEK: is required.*set AUTHMESH_KEK/s);
    const bad = await startAuth({ AUTHMESH_KEK: 'short' }).catch((e: Error) => e);
    expect((bad as Error).message).toMatch(/AUTHMESH_KEK: must be 32 bytes/);
    expect((bad as Error).message).not.toContain('short"');
  });
});
