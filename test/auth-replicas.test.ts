import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, runCli } from './support/mesh.js';

// Two auth replicas on one fresh NATS, started at the same instant in development mode: they race on the
// dev KEK and on the key ring; exactly one of each wins and both serve the same keys. Build first.
let nats: NatsServer;
let replicas: ServiceProcess[] = [];
let env: Record<string, string>;

type Jwks = { keys: Array<{ kid: string }> };
const jwksOf = async (s: ServiceProcess): Promise<Jwks> =>
  (await fetch(`http://${s.http}/.well-known/jwks.json`)).json() as Promise<Jwks>;

beforeAll(async () => {
  nats = await NatsServer.start();
  env = {
    NATS_URL: nats.url,
    AUTHMESH_ENV: 'development',
    AUTHMESH_KEK: '',
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_ISSUER: 'http://auth.replicas.test',
    LOG_LEVEL: 'warn',
  };
  const started = await Promise.allSettled(
    [1, 2].map((i) => ServiceProcess.start({ args: [authBin, 'serve'], env, name: `auth-${i}` })),
  );
  replicas = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
});

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await nats?.stop();
});

describe('auth replicas sharing one key ring', () => {
  it('agree on the ring after a simultaneous first start, warn loudly in development, and follow a CLI rotation', async () => {
    const [a, b] = replicas as [ServiceProcess, ServiceProcess];
    const [ja, jb] = await Promise.all([jwksOf(a), jwksOf(b)]);
    expect(ja.keys).toHaveLength(2);
    expect(jb).toEqual(ja);
    for (const r of replicas) expect(r.output).toContain('AUTHMESH_ENV=development');

    const r = await runCli(env, ['keys', 'rotate']);
    if (r.code !== 0) throw new Error(`keys rotate exited ${r.code}: ${r.stderr}`);
    const rotated = r.stdout;
    const { current } = JSON.parse(rotated) as { current: string };
    expect(current).toBe(ja.keys[1]!.kid); // the pre-published next key is the one promoted
    const deadline = Date.now() + 5000;
    let views: Jwks[] = [];
    while (Date.now() < deadline) {
      views = await Promise.all([jwksOf(a), jwksOf(b)]);
      if (views.every((v) => v.keys[0]!.kid === current)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const v of views) {
      expect(v.keys[0]!.kid).toBe(current);
      expect(v.keys.map((k) => k.kid)).toContain(ja.keys[0]!.kid); // retired, still published
      expect(v.keys).toHaveLength(3);
    }
  });
});
