// Password guessing against the auth service (issue 12), with real processes: two auth replicas on one
// nats-server, a third that trusts a proxy at 127.0.0.3, and clients on other loopback source addresses
// (127.0.0.2, 127.0.0.3) through a small TCP proxy, since grpc-js cannot pick a source address. Whether
// a password was hashed is read from the replica's own /metrics (authmesh_password_checks_total).
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authGrpc, type AuthServiceClient } from '@authmesh/proto';
import type { ServiceProcess } from '@authmesh/testing';
import { meshSuite } from '../support/mesh-suite.js';
import { call, PASSWORD, runCli, startAuthService, type CallResult } from '../support/mesh.js';
import { startProxy, type TcpProxy } from '../support/proxy.js';

// A first delay of 20 s (default 1 s): on a loaded machine, no delay may run out between two calls of a test.
const suite = meshSuite({
  issuer: 'http://auth.throttle.test',
  echoes: 0,
  authEnv: { AUTHMESH_LOGIN_BASE_DELAY_MS: '20000' },
});
const started: { proc: ServiceProcess; client: AuthServiceClient }[] = [];
const proxies: TcpProxy[] = [];
const clients: grpc.Client[] = [];
let replicaB: { proc: ServiceProcess; client: AuthServiceClient };
let trusting: { proc: ServiceProcess; client: AuthServiceClient };

const { AuthService } = authGrpc().authmesh.v1;

/** A client whose connections reach `target` from `source` (a loopback address), through a proxy. */
async function clientFrom(source: string, target: string): Promise<AuthServiceClient> {
  const proxy = await startProxy(target, { localAddress: source });
  proxies.push(proxy);
  const client = new AuthService(proxy.address, grpc.credentials.createInsecure());
  clients.push(client);
  return client as unknown as AuthServiceClient;
}

const login = (client: unknown, username: string, password: string, forwardedFor?: string) => {
  const metadata = new grpc.Metadata();
  if (forwardedFor !== undefined) metadata.set('x-forwarded-for', forwardedFor);
  return call(client, 'IssueToken', { password: { username, password } }, undefined, { metadata });
};

/** `authmesh_password_checks_total` of one auth process. */
async function hashes(proc: ServiceProcess): Promise<number> {
  const text = await (await fetch(`http://${proc.http}/metrics`)).text();
  return Number(/^authmesh_password_checks_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

const tally = (results: CallResult[]) => {
  const by = new Map<string, number>();
  for (const r of results) by.set(grpc.status[r.code]!, (by.get(grpc.status[r.code]!) ?? 0) + 1);
  return Object.fromEntries(by) as Record<string, number>;
};

beforeAll(async () => {
  for (const name of ['bob', 'carol', 'dave']) {
    const r = await runCli(suite.mesh.env, ['user', 'add', name, '--scopes', 'echo:read'], `${PASSWORD}\n`);
    expect(r.code, r.stderr).toBe(0);
  }
  replicaB = await startAuthService(suite.mesh.env);
  trusting = await startAuthService({ ...suite.mesh.env, AUTHMESH_TRUSTED_PROXIES: '127.0.0.3' });
  started.push(replicaB, trusting);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(proxies.map((p) => p.close()));
  for (const s of started) (s.client as unknown as grpc.Client).close();
  await Promise.all(started.map((s) => s.proc.stop()));
});

describe('login throttling: a shared budget reserved before the hash', () => {
  it('40 concurrent wrong guesses evaluate at most the budget; the right password from that peer is refused without hashing; the user still logs in from another peer', async () => {
    const a = suite.mesh.auth;
    const before = await hashes(a);
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => login(suite.mesh.authClient, 'alice', `guess-${i}`)),
    );
    const counts = tally(burst);
    const hashed = (await hashes(a)) - before;
    console.log(`[throttle] 40 concurrent guesses: ${JSON.stringify(counts)}; hashes computed: ${hashed}`);
    expect(counts.UNAUTHENTICATED ?? 0).toBeLessThanOrEqual(5);
    expect(counts.RESOURCE_EXHAUSTED).toBe(40 - (counts.UNAUTHENTICATED ?? 0));
    expect(hashed).toBe(counts.UNAUTHENTICATED ?? 0);
    for (const r of burst) expect(r.details).not.toContain('guess-');

    const hashedBefore = await hashes(a);
    const right = await login(suite.mesh.authClient, 'alice', PASSWORD);
    expect(right.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(right.details).toMatch(/retry in \d+ s/);
    expect(await hashes(a)).toBe(hashedBefore);

    const elsewhere = await login(await clientFrom('127.0.0.2', a.grpc), 'alice', PASSWORD);
    expect(elsewhere.code, elsewhere.details).toBe(0);
  });

  it('guesses alternated across two replicas share one budget', async () => {
    const results: CallResult[] = [];
    for (let i = 0; i < 10; i++) {
      const client = i % 2 === 0 ? suite.mesh.authClient : replicaB.client;
      results.push(await login(client, 'bob', `guess-${i}`));
    }
    const codes = results.map((r) => r.code);
    console.log(`[throttle] 10 guesses alternating replicas: ${JSON.stringify(tally(results))}`);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill(grpc.status.UNAUTHENTICATED));
    expect(codes.slice(5)).toEqual(Array(5).fill(grpc.status.RESOURCE_EXHAUSTED));
    expect((await login(replicaB.client, 'bob', PASSWORD)).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('client_credentials failures are throttled per client id and peer the same way', async () => {
    const { authClient, auth } = suite.mesh;
    const attempt = (client: unknown, secret: string) =>
      call(client, 'IssueToken', { client_credentials: { client_id: 'svc', client_secret: secret } });
    const results: CallResult[] = [];
    for (let i = 0; i < 8; i++) results.push(await attempt(authClient, `not-the-secret-${i}`));
    expect(results.map((r) => r.code)).toEqual([
      ...Array(5).fill(grpc.status.UNAUTHENTICATED),
      ...Array(3).fill(grpc.status.RESOURCE_EXHAUSTED),
    ]);
    expect((await attempt(authClient, suite.mesh.secrets.svc!)).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const other = await attempt(await clientFrom('127.0.0.2', auth.grpc), suite.mesh.secrets.svc!);
    expect(other.code, other.details).toBe(0);
  });

  it('x-forwarded-for counts only from a trusted proxy: a client cannot spread its guesses by writing it', async () => {
    // Untrusted peer: every guess names another "client", all count against 127.0.0.1.
    const spoofed: CallResult[] = [];
    for (let i = 0; i < 7; i++)
      spoofed.push(await login(suite.mesh.authClient, 'carol', `guess-${i}`, `198.51.100.${i + 1}`));
    expect(spoofed.filter((r) => r.code === grpc.status.UNAUTHENTICATED)).toHaveLength(5);

    // Behind the trusted proxy (127.0.0.3), the forwarded address is the peer: one client locked out,
    // another behind the same proxy still logs in.
    const viaProxy = await clientFrom('127.0.0.3', trusting.proc.grpc);
    const first: CallResult[] = [];
    for (let i = 0; i < 6; i++) first.push(await login(viaProxy, 'dave', `guess-${i}`, '198.51.100.7'));
    expect(first.map((r) => r.code).slice(4)).toEqual([
      grpc.status.UNAUTHENTICATED,
      grpc.status.RESOURCE_EXHAUSTED,
    ]);
    expect((await login(viaProxy, 'dave', PASSWORD, '198.51.100.7')).code).toBe(
      grpc.status.RESOURCE_EXHAUSTED,
    );
    const neighbour = await login(viaProxy, 'dave', PASSWORD, '198.51.100.8');
    expect(neighbour.code, neighbour.details).toBe(0);
  });
});
