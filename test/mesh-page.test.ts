import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer } from '@authmesh/testing';
import { loadConfig } from '../services/auth/src/config.js';
import { Mesh, until } from './support/mesh.js';

// The /mesh status page on the auth service's admin listener (loopback, AUTHMESH_ADMIN_ADDR), against
// real processes: the JSON it renders, and the page itself in a real headless Chromium when
// /usr/bin/chromium is installed (Debian package `chromium`; this test installs nothing). Build first.
const CHROMIUM = '/usr/bin/chromium';
let nats: NatsServer;
let mesh: Mesh;
let admin: string;

interface Snapshot {
  instances: { instance_id: string; audience: string; applied_sequence: number }[];
  stream_last_sequence: number;
  recent: { sequence: number; kind: string; confirmed: number; live: number }[];
}

beforeAll(async () => {
  nats = await NatsServer.start();
  mesh = await Mesh.start({
    natsUrl: nats.url,
    issuer: 'http://auth.mesh-page.test',
    echoes: 2,
    echoEnv: { AUTHMESH_MESH_ANNOUNCE_MS: '200' },
  });
  admin = (mesh.auth.listening as unknown as { admin: string }).admin;
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
  await nats?.stop();
});

const snapshot = async (): Promise<Snapshot> =>
  (await (await fetch(`http://${admin}/mesh.json`)).json()) as Snapshot;

describe('/mesh status page', () => {
  it('listens on loopback by default, and refuses a non-loopback admin address unless allowed by name', () => {
    expect(admin).toMatch(/^127\.0\.0\.1:\d+$/);
    const env = { AUTHMESH_ENV: 'development' };
    expect(() => loadConfig({ ...env, AUTHMESH_ADMIN_ADDR: '0.0.0.0:9000' })).toThrow(/AUTHMESH_ADMIN_ADDR/);
    expect(
      loadConfig({ ...env, AUTHMESH_ADMIN_ADDR: '0.0.0.0:9000', AUTHMESH_ALLOW_INSECURE_ADMIN_ADDR: 'true' })
        .adminAddr,
    ).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(loadConfig({ ...env, AUTHMESH_ADMIN_ADDR: 'off' }).adminAddr).toBeUndefined();
  });

  it('serves the live instances and the last revocations with how many instances confirmed each', async () => {
    await until(
      async () => (await snapshot()).instances.filter((i) => i.audience === 'echo').length === 2,
      10_000,
      'two echos on the page',
    );
    const token = await mesh.adminToken();
    const r = await mesh.authCall<{ sequence: number }>('Revoke', { jti: 'page-test', wait_ms: 5000 }, token);
    expect(r.code, r.details).toBe(0);
    const s = await snapshot();
    const latest = s.recent[0]!;
    expect(latest.sequence).toBe(Number(r.res!.sequence));
    expect(latest.kind).toBe('jti');
    expect(latest.live).toBe(s.instances.length);
    expect(latest.confirmed).toBe(s.instances.length);
    // The public HTTP side does not serve it.
    expect((await fetch(`http://${mesh.auth.http}/mesh`)).status).toBe(404);
  });

  it('renders the table in a real headless Chromium (skipped when /usr/bin/chromium is missing)', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      ctx.skip('chromium is not installed (apt-get install -y chromium): page test not run');
      return;
    }
    const ids = (await snapshot()).instances.filter((i) => i.audience === 'echo').map((i) => i.instance_id);
    const dir = mkdtempSync(join(tmpdir(), 'authmesh-mesh-page-'));
    const args = [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      // This machine's network is closed: background fetches would only fail, many at a time.
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${dir}`,
      '--virtual-time-budget=5000',
    ];
    const dom = await run(CHROMIUM, [...args, '--dump-dom', `http://${admin}/mesh`]);
    expect(dom).toContain('audience echo (2)');
    for (const id of ids) expect(dom).toContain(id);
    expect(dom).toMatch(/\d+ \/ \d+/); // the confirmed column of the last revocations
    const png = join(dir, 'mesh.png');
    await run(CHROMIUM, [...args, '--window-size=1280,900', `--screenshot=${png}`, `http://${admin}/mesh`]);
    expect(statSync(png).size).toBeGreaterThan(1000);
  });
});

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { timeout: 60_000, maxBuffer: 10_000_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}
