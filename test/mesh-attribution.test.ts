import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  GetMeshStatusResponse__Output,
  MeshInstance__Output,
  RevokeResponse__Output,
} from '@authmesh/interceptor/proto';
import { NatsServer } from '@authmesh/testing';
import { Mesh, PASSWORD, call, clientSecretOf, runCli, until } from './support/mesh.js';

// Attributable mesh announcements, attacked from NATS: one nats-server, the auth service, two echos
// that have client credentials (so their announcements are MACed under a key only the auth service
// can derive), and an attacker who may publish on authmesh.mesh.> and even holds client credentials of
// its own. Whatever it publishes, a frozen (SIGSTOP) echo must stay pending. Build first.
// 500 ms: a frozen echo stays live (3 periods) until Revoke publishes, even on a loaded machine.
const ANNOUNCE_MS = 500;
const ANNOUNCE = 'authmesh.mesh.announce';
let nats: NatsServer;
let mesh: Mesh;
let admin: string;
let nc: NatsConnection;
const creds: Record<string, string> = {};

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({ natsUrl: nats.url, issuer: 'http://auth.mesh-attribution.test', echoes: 0 });
  for (const id of ['echo-svc', 'mallory']) {
    const r = await runCli(mesh.env, ['client', 'add', id, '--scopes', 'authmesh:exchange']);
    if (r.code !== 0) throw new Error(`client add ${id} failed: ${r.stderr}`);
    creds[id] = clientSecretOf(r.stdout);
  }
  const env = {
    AUTHMESH_MESH_ANNOUNCE_MS: String(ANNOUNCE_MS),
    AUTHMESH_CLIENT_ID: 'echo-svc',
    AUTHMESH_CLIENT_SECRET: creds['echo-svc']!,
  };
  await Promise.all([mesh.startEcho(env), mesh.startEcho(env)]);
  admin = await mesh.adminToken();
  nc = await connect({ servers: nats.url });
}, 90_000);

afterAll(async () => {
  await nc?.close();
  await mesh?.stop();
  await nats?.stop();
});

const pidOf = (i: number): number => mesh.echoes[i]!.proc.proc.pid!;
const labelPid = (label: string | undefined): number => Number((label ?? '').split('/').pop());

async function echoInstances(): Promise<MeshInstance__Output[]> {
  const r = await call<GetMeshStatusResponse__Output>(mesh.authClient, 'GetMeshStatus', {}, admin);
  if (r.code !== 0) throw new Error(`GetMeshStatus failed with ${r.code}: ${r.details}`);
  return r.res!.instances.filter((i) => i.audience === 'echo');
}

/** The next announcement echo `i` publishes, as sent (raw JSON). */
async function capture(i: number): Promise<Record<string, unknown>> {
  const pid = pidOf(i);
  const sub = nc.subscribe(ANNOUNCE);
  try {
    for await (const m of sub) {
      const a = JSON.parse(Buffer.from(m.data).toString()) as Record<string, unknown>;
      if (typeof a.label === 'string' && labelPid(a.label) === pid) return a;
    }
  } finally {
    sub.unsubscribe();
  }
  throw new Error('no announcement');
}

/** Publishes `payload` on `subject` every 20 ms until stopped: the attacker keeps its claim fresh. */
function flood(subject: string, payload: () => object): () => void {
  const timer = setInterval(() => nc.publish(subject, JSON.stringify(payload())), 20);
  return () => clearInterval(timer);
}

async function revokeAlice(waitMs: number): Promise<RevokeResponse__Output> {
  const r = await mesh.authCall<RevokeResponse__Output>(
    'Revoke',
    { subject: 'alice', wait_ms: waitMs },
    admin,
  );
  if (r.code !== 0) throw new Error(`Revoke failed with ${r.code}: ${r.details}`);
  return r.res!;
}

/** Freezes echo 1, runs `attack` while it is frozen, and returns what Revoke{wait_ms} reported. */
async function whileFrozen(
  attack: (victim: Record<string, unknown>) => Promise<() => void> | (() => void),
): Promise<{ res: RevokeResponse__Output; frozen: number }> {
  await until(async () => (await echoInstances()).length === 2, 10_000, 'two echo instances live');
  const victim = await capture(1);
  const frozen = pidOf(1);
  process.kill(frozen, 'SIGSTOP');
  try {
    const stop = await attack(victim);
    try {
      return { res: await revokeAlice(1500), frozen };
    } finally {
      stop();
    }
  } finally {
    process.kill(frozen, 'SIGCONT');
  }
}

describe('attributable mesh announcements', () => {
  it('echos with client credentials are listed as authenticated, attributed to their client', async () => {
    await until(
      async () => {
        const list = await echoInstances();
        return list.length === 2 && list.every((i) => i.authenticated);
      },
      10_000,
      'two authenticated echo instances',
    );
    for (const i of await echoInstances()) expect(i.client_id).toBe('echo-svc');
    // The auth service's own feed announces too, under a key only it derives.
    const r = await call<GetMeshStatusResponse__Output>(mesh.authClient, 'GetMeshStatus', {}, admin);
    expect(r.res!.instances.filter((i) => i.audience === 'authmesh')).toMatchObject([
      { authenticated: true, client_id: 'authmesh-auth-service' },
    ]);
  });

  it('a forged unauthenticated announcement with a frozen echo id claiming the sequence does not confirm it', async () => {
    const { res, frozen } = await whileFrozen((victim) =>
      flood(ANNOUNCE, () => {
        // The victim's own announcement, its proof removed, claiming far more than it applied.
        const { mac: _mac, n: _n, cid: _cid, ...rest } = victim;
        return { ...rest, seq: 1e12, authenticated: true };
      }),
    );
    expect(res.pending.map((i) => labelPid(i.label))).toEqual([frozen]);
    expect(res.applied.filter((i) => i.audience === 'echo').map((i) => labelPid(i.label))).toEqual([
      pidOf(0),
    ]);
  });

  it('nor does a genuine announcement replayed with a newer sequence, or a genuine one replayed as is', async () => {
    const { res, frozen } = await whileFrozen((victim) => {
      let k = 0;
      return flood(ANNOUNCE, () =>
        k++ % 2 ? victim : { ...victim, seq: 1e12, n: Number(victim.n ?? 0) + 1000 + k },
      );
    });
    expect(res.pending.map((i) => labelPid(i.label))).toEqual([frozen]);
  });

  it('nor does an announcement MACed under a key the attacker got for the victim id with its own credentials', async () => {
    const mallory = (
      await mesh.issue({ client_credentials: { client_id: 'mallory', client_secret: creds.mallory! } })
    ).access_token;
    const { res, frozen } = await whileFrozen(async (victim) => {
      const got = await mesh.authCall<{ key: Buffer; client_id: string }>(
        'GetMeshKey',
        { instance_id: victim.id },
        mallory,
      );
      expect(got.code, got.details).toBe(0);
      expect(got.res!.client_id).toBe('mallory');
      const { macAnnouncement } = await import('@authmesh/interceptor');
      let n = 1;
      return flood(ANNOUNCE, () => {
        const a = { ...victim, cid: 'mallory', seq: 1e12, n: n++, authenticated: true };
        return { ...a, mac: macAnnouncement(got.res!.key, 'announce', a as never) };
      });
    });
    expect(res.pending.map((i) => labelPid(i.label))).toEqual([frozen]);
    expect(res.pending[0]!.client_id).toBe('echo-svc');
  });

  it('a forged goodbye does not drop a frozen echo from the instances Revoke waits for', async () => {
    const { res, frozen } = await whileFrozen((victim) => {
      const { mac: _mac, ...rest } = victim;
      nc.publish('authmesh.mesh.goodbye', JSON.stringify(rest));
      nc.publish('authmesh.mesh.goodbye', JSON.stringify(victim)); // an announcement's MAC is not a goodbye's
      return () => undefined;
    });
    expect(res.pending.map((i) => labelPid(i.label))).toEqual([frozen]);
  });

  it('an echo whose credentials are refused still serves, announcing unauthenticated', async () => {
    const e = await mesh.startEcho({
      AUTHMESH_MESH_ANNOUNCE_MS: String(ANNOUNCE_MS),
      AUTHMESH_CLIENT_ID: 'echo-svc',
      AUTHMESH_CLIENT_SECRET: 'not-the-secret',
    });
    const pid = e.proc.proc.pid!;
    await until(
      async () => (await echoInstances()).some((i) => labelPid(i.label) === pid),
      10_000,
      'third echo live',
    );
    const third = (await echoInstances()).find((i) => labelPid(i.label) === pid)!;
    expect(third.authenticated).toBe(false);
    const token = await mesh.clientToken();
    const r = await mesh.echo('WhoAmI', token, { i: mesh.echoes.length - 1 });
    expect(r.code, r.details).toBe(0);
  });

  it('the CLI revoke --wait verifies announcements with the KEK: the authenticated echos confirm', async () => {
    await until(
      async () => (await echoInstances()).filter((i) => i.authenticated).length === 2,
      10_000,
      'two authenticated echos live',
    );
    const r = await runCli(mesh.env, ['revoke', '--subject', 'alice', '--wait', '5000']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as RevokeResponse__Output;
    const echoes = out.applied.filter((i) => i.audience === 'echo' && i.authenticated);
    expect(echoes.map((i) => i.client_id)).toEqual(['echo-svc', 'echo-svc']);
    const table = await runCli(mesh.env, ['mesh', 'status']);
    expect(table.stdout).toContain('client echo-svc');
    expect(table.stdout).toContain('unauthenticated'); // the echo with refused credentials
  });

  it('GetMeshKey: only a client acting as itself with a token for the auth service gets a key', async () => {
    const ask = (token?: string, instance_id = 'some-instance') =>
      mesh.authCall('GetMeshKey', { instance_id }, token);
    expect((await ask()).code).toBe(16); // no token
    expect((await ask(await mesh.clientToken('svc'))).code).toBe(16); // a token for echo, replayed
    const alice = await mesh.issue({ password: { username: 'alice', password: PASSWORD } });
    expect((await ask(alice.access_token)).code).toBe(7); // a user, not a client
    const svc = (
      await mesh.issue({ client_credentials: { client_id: 'svc', client_secret: mesh.secrets.svc! } })
    ).access_token;
    expect((await ask(svc, '')).code).toBe(3);
    expect((await ask(svc, 'x'.repeat(257))).code).toBe(3);
    const a = await mesh.authCall<{ key: Buffer; client_id: string }>(
      'GetMeshKey',
      { instance_id: 'i' },
      svc,
    );
    const b = await mesh.authCall<{ key: Buffer; client_id: string }>(
      'GetMeshKey',
      { instance_id: 'j' },
      svc,
    );
    expect(a.res!.client_id).toBe('svc');
    expect(a.res!.key).toHaveLength(32);
    expect(a.res!.key.equals(b.res!.key)).toBe(false);
  });
});
