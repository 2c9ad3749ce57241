// TLS and mTLS on every gRPC endpoint (auth, echo, echo → auth), and RFC 8705 certificate-bound
// tokens: a client_credentials token issued over mTLS carries cnf.x5t#S256 of the client's
// certificate; echo accepts it from that certificate and refuses it (UNAUTHENTICATED) from another.
// A Refresh retried within the grace must come from the certificate that made the rotation (issue
// "Sessions and credentials"): from another one it is reuse, and the session ends.
// Certificates are generated per run with openssl into a temp dir.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc, echoGrpc } from '@authmesh/proto';
import { NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, call, echoMain, runCli, until } from './support/mesh.js';

const dir = mkdtempSync(join(tmpdir(), 'authmesh-tls-'));
const p = (name: string) => join(dir, name);
/** `openssl req` options for a new unencrypted P-256 key. */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}
/** A key + certificate signed by the test CA; `san` for servers (grpc-js checks it against 127.0.0.1). */
function issueCert(name: string, san: string): void {
  openssl(
    'req',
    ...NEW_P256_KEY,
    '-keyout',
    p(`${name}.key`),
    '-out',
    p(`${name}.csr`),
    '-subj',
    `/CN=${name}`,
  );
  writeFileSync(p(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    p(`${name}.csr`),
    '-CA',
    p('ca.pem'),
    '-CAkey',
    p('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    p(`${name}.pem`),
    '-extfile',
    p(`${name}.ext`),
  );
}

const ALICE_PASSWORD = 'alice-tls-password';
let nats: NatsServer;
let auth: ServiceProcess;
let echo: ServiceProcess;
let svcSecret: string;
const channel = (name: string) =>
  grpc.credentials.createSsl(
    readFileSync(p('ca.pem')),
    readFileSync(p(`${name}.key`)),
    readFileSync(p(`${name}.pem`)),
  );

beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    ...NEW_P256_KEY,
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=authmesh test CA',
  );
  issueCert('server', 'IP:127.0.0.1,DNS:localhost');
  issueCert('alice-svc', 'DNS:alice-svc');
  issueCert('mallory', 'DNS:mallory');

  nats = await NatsServer.start();
  const tlsEnv = {
    AUTHMESH_TLS_CERT: p('server.pem'),
    AUTHMESH_TLS_KEY: p('server.key'),
    AUTHMESH_TLS_CA: p('ca.pem'),
    AUTHMESH_TLS_CLIENT_AUTH: 'require',
  };
  const env = {
    NATS_URL: nats.url,
    AUTHMESH_ISSUER: 'http://auth.ops-tls.test',
    AUTHMESH_KEK: Buffer.alloc(32, 7).toString('base64url'),
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_KEY_ROTATION_INTERVAL: '0',
    // The user's password is hashed cheaply: this file tests TLS, not the hash.
    AUTHMESH_SCRYPT_N: '1024',
  };
  const added = await runCli(env, ['client', 'add', 'svc', '--scopes', 'echo:read', '--audiences', 'echo']);
  expect(added.code).toBe(0);
  svcSecret = (JSON.parse(added.stdout.trim().split('\n').pop()!) as { client_secret: string }).client_secret;
  const user = await runCli(
    env,
    ['user', 'add', 'alice', '--scopes', 'echo:read', '--audiences', 'echo'],
    `${ALICE_PASSWORD}\n`,
  );
  expect(user.code, user.stderr).toBe(0);
  auth = await ServiceProcess.start({ name: 'auth', args: [authBin, 'serve'], env: { ...env, ...tlsEnv } });
  echo = await ServiceProcess.start({
    name: 'echo',
    args: [echoMain],
    env: {
      ...tlsEnv,
      NATS_URL: nats.url,
      ECHO_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_AUDIENCE: 'echo',
      AUTHMESH_ISSUER: env.AUTHMESH_ISSUER,
      AUTHMESH_AUTH_TARGET: auth.grpc,
    },
  });
}, 60_000);

afterAll(async () => {
  await echo?.stop();
  await auth?.stop();
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS, mTLS and certificate-bound tokens', () => {
  it('a token issued over mTLS is bound to the client certificate and works only with it', async () => {
    const { AuthService } = authGrpc().authmesh.v1;
    const { Echo } = echoGrpc().echo.v1;
    const authAlice = new AuthService(auth.grpc, channel('alice-svc'));
    const echoAlice = new Echo(echo.grpc, channel('alice-svc'));
    const echoMallory = new Echo(echo.grpc, channel('mallory'));
    try {
      const issued = await call<{ access_token: string }>(authAlice, 'IssueToken', {
        client_credentials: { client_id: 'svc', client_secret: svcSecret },
        audience: ['echo'],
      });
      expect(issued.code).toBe(0);
      const token = issued.res!.access_token;
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
        cnf?: Record<string, string>;
      };
      const der = new X509Certificate(readFileSync(p('alice-svc.pem'))).raw;
      expect(claims.cnf).toEqual({ 'x5t#S256': createHash('sha256').update(der).digest('base64url') });

      const ok = await call<{ principal?: { sub: string } }>(echoAlice, 'WhoAmI', {}, token);
      expect(ok.code).toBe(0);
      const stolen = await call(echoMallory, 'WhoAmI', {}, token);
      expect(stolen.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(stolen.details).not.toContain(token.split('.')[2]!);
      // The rightful holder still works after the refusal (no cached verdict leaks either way).
      expect((await call(echoAlice, 'WhoAmI', {}, token)).code).toBe(0);
    } finally {
      authAlice.close();
      echoAlice.close();
      echoMallory.close();
    }
  });

  it('a Refresh retried within the grace from another certificate is reuse: refused, and the session ends', async () => {
    const { AuthService } = authGrpc().authmesh.v1;
    const { Echo } = echoGrpc().echo.v1;
    const authAlice = new AuthService(auth.grpc, channel('alice-svc'));
    const authMallory = new AuthService(auth.grpc, channel('mallory'));
    const echoAlice = new Echo(echo.grpc, channel('alice-svc'));
    type Tokens = { access_token: string; refresh_token: string };
    const login = async () => {
      const r = await call<Tokens>(authAlice, 'IssueToken', {
        password: { username: 'alice', password: ALICE_PASSWORD },
        audience: ['echo'],
      });
      expect(r.code, r.details).toBe(0);
      return r.res!;
    };
    const refresh = (client: unknown, refresh_token: string) =>
      call<Tokens>(client, 'Refresh', { refresh_token });
    try {
      // Control: the retry of a rotation (a lost answer) from the same certificate gets the same successor.
      const kept = await login();
      const rotated = await refresh(authAlice, kept.refresh_token);
      expect(rotated.code, rotated.details).toBe(0);
      const retried = await refresh(authAlice, kept.refresh_token);
      expect(retried.code, retried.details).toBe(0);
      expect(retried.res!.refresh_token).toBe(rotated.res!.refresh_token);

      // The same retry from another certificate (the token was copied): reuse, although within the grace
      // and although the successor is unused.
      const victim = await login();
      const first = await refresh(authAlice, victim.refresh_token);
      expect(first.code, first.details).toBe(0);
      expect((await call(echoAlice, 'WhoAmI', {}, first.res!.access_token)).code).toBe(0);
      const stolen = await refresh(authMallory, victim.refresh_token);
      expect(stolen.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(stolen.res).toBeUndefined();
      // The session is over: the rightful successor, the rightful retry and the live access token all fail.
      expect((await refresh(authAlice, first.res!.refresh_token)).code).toBe(grpc.status.UNAUTHENTICATED);
      expect((await refresh(authAlice, victim.refresh_token)).code).toBe(grpc.status.UNAUTHENTICATED);
      await until(
        async () =>
          (await call(echoAlice, 'WhoAmI', {}, first.res!.access_token)).code === grpc.status.UNAUTHENTICATED,
        5000,
        'the access token of the session ended by reuse is refused',
      );
      // Another session of the same user is untouched.
      expect((await refresh(authAlice, rotated.res!.refresh_token)).code).toBe(0);
    } finally {
      authAlice.close();
      authMallory.close();
      echoAlice.close();
    }
  });

  it('echo refuses plaintext and clients without a certificate', async () => {
    const { Echo } = echoGrpc().echo.v1;
    const plain = new Echo(echo.grpc, grpc.credentials.createInsecure());
    const noCert = new Echo(echo.grpc, grpc.credentials.createSsl(readFileSync(p('ca.pem'))));
    const withCert = new Echo(echo.grpc, channel('mallory'));
    try {
      expect((await call(plain, 'Ping', { message: 'x' }, undefined, { deadlineMs: 2000 })).code).not.toBe(0);
      expect((await call(noCert, 'Ping', { message: 'x' }, undefined, { deadlineMs: 2000 })).code).not.toBe(
        0,
      );
      expect((await call(withCert, 'Ping', { message: 'x' })).code).toBe(0);
    } finally {
      plain.close();
      noCert.close();
      withCert.close();
    }
  });
});
