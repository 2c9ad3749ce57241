import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetMeshStatusResponse__Output, RevokeResponse__Output } from '@authmesh/interceptor/proto';
import { NatsServer } from '@authmesh/testing';
import { Mesh, call, runCli, startAuthService, until } from './support/mesh.js';

// Revocation receipts and mesh status against real processes: one nats-server, two auth replicas,
// three echo processes announcing every ANNOUNCE_MS. Build first.
const ANNOUNCE_MS = 200;
let nats: NatsServer;
let mesh: Mesh;
let second: Awaited<ReturnType<typeof startAuthService>>;
let admin: string;

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({
    natsUrl: nats.url,
    issuer: 'http://auth.mesh-receipts.test',
    echoes: 3,
    echoEnv: { AUTHMESH_MESH_ANNOUNCE_MS: String(ANNOUNCE_MS) },
  });
  second = await startAuthService(mesh.env);
  admin = await mesh.adminToken();
}, 90_000);

afterAll(async () => {
  second?.proc && (second.client as unknown as { close(): void }).close();
  await second?.proc.stop();
  await mesh?.stop();
  await nats?.stop();
});

const pidOf = (i: number): number => mesh.echoes[i]!.proc.proc.pid!;
const labelPid = (label: string | undefined): number => Number((label ?? '').split('/').pop());

async function status(client: unknown = mesh.authClient): Promise<GetMeshStatusResponse__Output> {
  const r = await call<GetMeshStatusResponse__Output>(client, 'GetMeshStatus', {}, admin);
  if (r.code !== 0) throw new Error(`GetMeshStatus failed with ${r.code}: ${r.details}`);
  return r.res!;
}

const echoIds = async (client?: unknown): Promise<string[]> =>
  (await status(client)).instances
    .filter((i) => i.audience === 'echo')
    .map((i) => i.instance_id)
    .sort();

async function revokeAlice(waitMs: number): Promise<{ res: RevokeResponse__Output; ms: number }> {
  const t0 = performance.now();
  const r = await mesh.authCall<RevokeResponse__Output>(
    'Revoke',
    { subject: 'alice', wait_ms: waitMs },
    admin,
  );
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`Revoke failed with ${r.code}: ${r.details}`);
  return { res: r.res!, ms };
}

describe('mesh receipts', () => {
  it('both auth replicas list the same three echo instances, with audience, version and label', async () => {
    await until(async () => (await echoIds()).length === 3, 10_000, 'three echo instances live');
    await until(
      async () => JSON.stringify(await echoIds(second.client)) === JSON.stringify(await echoIds()),
      10_000,
      'second replica agrees',
    );
    const s = await status();
    const echoes = s.instances.filter((i) => i.audience === 'echo');
    expect(echoes.map((i) => labelPid(i.label)).sort()).toEqual([0, 1, 2].map(pidOf).sort());
    for (const i of echoes) {
      expect(i.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(i.authenticated).toBe(false);
      expect(Number(i.applied_sequence)).toBeLessThanOrEqual(Number(s.stream_last_sequence));
    }
    // The auth replicas enforce revocations on their own callers: they are instances too.
    expect(s.instances.filter((i) => i.audience === 'authmesh')).toHaveLength(2);
  });

  it('Revoke with wait_ms returns once all three echos applied the event, listing them', async () => {
    const { res, ms } = await revokeAlice(10_000);
    const applied = res.applied.filter((i) => i.audience === 'echo');
    expect(applied.map((i) => labelPid(i.label)).sort()).toEqual([0, 1, 2].map(pidOf).sort());
    expect(res.pending).toEqual([]);
    for (const i of res.applied)
      expect(Number(i.applied_sequence)).toBeGreaterThanOrEqual(Number(res.sequence));
    expect(ms).toBeLessThan(5000); // returns on confirmation, not at the end of wait_ms
  });

  it('without wait_ms, Revoke reports no receipt; wait_ms needs the admin scope', async () => {
    const r = await mesh.authCall<RevokeResponse__Output>('Revoke', { subject: 'alice' }, admin);
    expect(r.code).toBe(0);
    expect(r.res!.applied).toEqual([]);
    expect(r.res!.pending).toEqual([]);
    // svc may revoke its own subject, but not ask for the receipt (it lists the mesh's instances).
    const svc = (
      await mesh.issue({ client_credentials: { client_id: 'svc', client_secret: mesh.secrets.svc! } })
    ).access_token;
    const own = await mesh.authCall('Revoke', { subject: 'svc', wait_ms: 100 }, svc);
    expect(own.code, own.details).toBe(7);
    const tooLong = await mesh.authCall('Revoke', { subject: 'alice', wait_ms: 600_000 }, admin);
    expect(tooLong.code).toBe(3);
  });

  it('a frozen echo (SIGSTOP) is pending after wait_ms, and applies the event after SIGCONT', async () => {
    await until(async () => (await echoIds()).length === 3, 10_000, 'three echo instances live');
    const frozen = pidOf(2);
    process.kill(frozen, 'SIGSTOP');
    try {
      const { res, ms } = await revokeAlice(1500);
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(res.pending.map((i) => labelPid(i.label))).toEqual([frozen]);
      expect(res.pending[0]!.audience).toBe('echo');
      expect(Number(res.pending[0]!.applied_sequence)).toBeLessThan(Number(res.sequence));
      expect(
        res.applied
          .filter((i) => i.audience === 'echo')
          .map((i) => labelPid(i.label))
          .sort(),
      ).toEqual([pidOf(0), pidOf(1)].sort());
      process.kill(frozen, 'SIGCONT');
      await until(
        async () =>
          (await status()).instances.some(
            (i) => labelPid(i.label) === frozen && Number(i.applied_sequence) >= Number(res.sequence),
          ),
        10_000,
        'thawed echo applied the event',
      );
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
  });

  it('the CLI: revoke --wait prints the receipt and exits 0; mesh status lists the instances', async () => {
    const r = await runCli(mesh.env, ['revoke', '--subject', 'alice', '--wait', '5000']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as RevokeResponse__Output;
    expect(out.applied.filter((i) => i.audience === 'echo')).toHaveLength(3);
    expect(out.pending).toEqual([]);
    const s = await runCli(mesh.env, ['mesh', 'status', '--json']);
    expect(s.code, s.stderr).toBe(0);
    const json = JSON.parse(s.stdout) as GetMeshStatusResponse__Output & { source: string };
    expect(json.source).toBe('roster');
    expect(json.instances.filter((i) => i.audience === 'echo')).toHaveLength(3);
    const table = await runCli(mesh.env, ['mesh', 'status']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('audience echo (3)');
    expect(table.stdout).toContain(`/${pidOf(0)}`);
  });

  it('the CLI revoke --wait exits non-zero and names the frozen echo when it does not confirm', async () => {
    // The CLI takes about a second to start: this echo announces every 2 s, so it is still live (not
    // 3 periods unheard) when the CLI publishes, though frozen before the CLI started.
    await mesh.startEcho({ AUTHMESH_MESH_ANNOUNCE_MS: '2000' });
    await until(async () => (await echoIds()).length === 4, 10_000, 'fourth echo live');
    const frozen = pidOf(3);
    process.kill(frozen, 'SIGSTOP');
    try {
      const r = await runCli(mesh.env, ['revoke', '--subject', 'alice', '--wait', '1000']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`pending: \\S+ audience=echo label=\\S+/${frozen} `));
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
  });

  it('an echo that stops is gone after 3 announcement periods', async () => {
    const victim = pidOf(0);
    process.kill(victim, 'SIGKILL');
    const t0 = performance.now();
    await until(
      async () => !(await status()).instances.some((i) => labelPid(i.label) === victim),
      5000,
      'killed echo gone',
    );
    const goneMs = performance.now() - t0;
    // Gone after ~3 periods (plus scheduling on a loaded machine), not before 2.
    expect(goneMs).toBeGreaterThanOrEqual(2 * ANNOUNCE_MS);
    await until(
      async () => !(await status(second.client)).instances.some((i) => labelPid(i.label) === victim),
      5000,
      'killed echo gone on the second replica',
    );
  });
});
