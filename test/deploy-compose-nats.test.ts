// docker-compose.yml's NATS services run for real without Docker: the command lines of `nats` and of the
// cluster profile's nats-1..3 exactly as `docker-compose config` renders them, with only the container
// specifics mapped (host names and fixed ports to free loopback ports, /data to temp dirs, the mounted
// config to deploy/nats-server.conf). The single node requires authentication; a password nats-server
// would misread is refused before it starts; the three cluster nodes form a JetStream cluster under the
// least-privilege users, their routes authenticate, and a node without NATS_ROUTE_PASSWORD does not start.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, nanos, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, natsServerBinary } from '@authmesh/testing';
import {
  composeConfig,
  composeFixture,
  composeTools,
  NO_COMPOSE,
  type ComposeFile,
} from './support/compose.js';
import { natsConf, NATS_USERS } from './support/deploy-nats.js';
import { until } from './support/mesh.js';

const NODES = [1, 2, 3];
const ROUTE_PASSWORD = 'natsroute0';

/** A node's ports on loopback: clients, routes, monitoring (the config's fixed 8222 would collide). */
interface Ports {
  client: number;
  route: number;
  monitor: number;
}

interface Node {
  proc: ChildProcess;
  log: string;
}

/**
 * A NATS service's `sh -c` script from the compose file, mapped onto this machine; `routes` are the
 * cluster nodes' ports (nats-N:6222 becomes the route port of node N).
 */
function localScript(
  file: ComposeFile,
  service: string,
  me: Ports,
  storeDir: string,
  routes: Ports[] = [],
): string {
  const command = file.services[service]!.command as string[];
  expect(command.slice(0, 2)).toEqual(['sh', '-c']);
  const mapped = command[2]!
    // `config` prints a literal `$` of the file as `$$`; the container's shell gets one.
    .replaceAll('$$', '$')
    .replace('exec nats-server', `exec ${natsServerBinary()} -a 127.0.0.1 -p ${me.client} -m ${me.monitor}`)
    .replaceAll('/etc/nats/nats-server.conf', natsConf)
    .replace('-sd /data', `-sd ${storeDir}`)
    .replaceAll('0.0.0.0:6222', `127.0.0.1:${me.route}`)
    .replaceAll(/nats-(\d):6222/g, (_m, n: string) => `127.0.0.1:${routes[Number(n) - 1]!.route}`);
  expect(mapped).not.toMatch(/nats-\d|6222|\/data\b|\/etc\/nats/);
  return mapped;
}

const freePorts = async (): Promise<Ports> => ({
  client: await freePort(),
  route: await freePort(),
  monitor: await freePort(),
});

const tool = composeTools[0];
const fixture = composeFixture();
// Not "…-nats-": a random suffix starting with a digit would match the unmapped-name check above.
const store = mkdtempSync(join(tmpdir(), 'authmesh-compose-store-'));
/** Every process started here, killed at the end. */
const started: Node[] = [];
let file: ComposeFile;

function start(env: Record<string, string>, script: string): Node {
  const proc = spawn('sh', ['-c', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const node: Node = { proc, log: '' };
  proc.stderr!.on('data', (d: Buffer) => {
    if (node.log.length < 200_000) node.log += d.toString();
  });
  started.push(node);
  return node;
}

const exitCode = (node: Node) =>
  new Promise<number | null>((r) =>
    node.proc.exitCode !== null ? r(node.proc.exitCode) : node.proc.once('exit', r),
  );

beforeAll(async () => {
  if (!tool) return;
  const r = await composeConfig(tool, fixture.dir, { ...fixture.vars, NATS_ROUTE_PASSWORD: ROUTE_PASSWORD });
  expect(r.status, r.stderr).toBe(0);
  file = tool.parse(r.stdout);
}, 60_000);
afterAll(async () => {
  for (const n of started) n.proc.kill('SIGKILL');
  await Promise.all(started.map(exitCode));
  rmSync(store, { recursive: true, force: true });
  rmSync(fixture.dir, { recursive: true, force: true });
});

describe('docker-compose.yml nats (single node)', () => {
  it('starts with the shipped config and lets in only its users', async (ctx) => {
    ctx.skip(!tool, NO_COMPOSE);
    const ports = await freePorts();
    const node = start(
      file.services.nats!.environment!,
      localScript(file, 'nats', ports, join(store, 'single')),
    );
    const servers = `127.0.0.1:${ports.client}`;
    let service: NatsConnection | undefined;
    await until(
      async () => {
        service = await connect({
          servers,
          user: NATS_USERS.service.user,
          pass: fixture.vars.NATS_SERVICE_PASSWORD!,
        }).catch(() => undefined);
        return service !== undefined;
      },
      15_000,
      'single node answers',
      100,
    );
    await service!.close();
    await expect(connect({ servers, reconnect: false })).rejects.toThrow(/authorization/i);
    expect(node.log).toMatch(/Starting JetStream/);
  });

  it('refuses to start with a password nats-server would misread (a comma would cut it short)', async (ctx) => {
    ctx.skip(!tool, NO_COMPOSE);
    for (const bad of ['natsabc,def', '1natsabc', 'nats abc']) {
      const env = { ...file.services.nats!.environment!, NATS_SERVICE_PASSWORD: bad };
      const node = start(env, localScript(file, 'nats', await freePorts(), join(store, 'refused')));
      expect(await exitCode(node), bad).toBe(1);
      expect(node.log).toMatch(/letters and digits only/);
    }
  });
});

describe('docker-compose.yml cluster profile (nats-1..3)', () => {
  const nodes: Node[] = [];
  let ports: Ports[] = [];
  let auth: NatsConnection | undefined;

  beforeAll(async () => {
    if (!tool) return;
    ports = await Promise.all(NODES.map(freePorts));
    for (const i of NODES) {
      const script = localScript(file, `nats-${i}`, ports[i - 1]!, join(store, `n${i}`), ports);
      nodes.push(start(file.services[`nats-${i}`]!.environment!, script));
    }
  }, 60_000);
  afterAll(async () => {
    await auth?.close();
  });

  it('forms a JetStream cluster: the auth user creates a 3-replica revocation stream, a service reads it on another node', async (ctx) => {
    ctx.skip(!tool, NO_COMPOSE);
    auth = await connect({
      servers: `127.0.0.1:${ports[0]!.client}`,
      user: NATS_USERS.auth.user,
      pass: file.services['nats-1']!.environment!.NATS_AUTH_PASSWORD!,
      inboxPrefix: '_AUTHMESH_AUTH_INBOX',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
    });
    // Until the routes are up and a meta leader is elected, JetStream times out or errs: try again.
    await until(
      () =>
        auth!
          .jetstreamManager({ timeout: 3000, checkAPI: false })
          .then((jsm) =>
            jsm.streams.add({
              name: 'AUTHMESH_REVOCATIONS',
              subjects: ['authmesh.revoked.>'],
              num_replicas: 3,
              max_age: nanos(3_600_000),
            }),
          )
          .then(
            () => true,
            () => false,
          ),
      45_000,
      '3-replica stream created',
      500,
    );
    await until(
      () =>
        auth!
          .jetstream({ timeout: 3000 })
          .publish('authmesh.revoked.jti', new TextEncoder().encode('x'), { msgID: 'one' })
          .then(
            () => true,
            () => false,
          ),
      20_000,
      'published to the replicated stream',
      250,
    );
    const service = await connect({
      servers: `127.0.0.1:${ports[2]!.client}`,
      user: NATS_USERS.service.user,
      pass: file.services['nats-3']!.environment!.NATS_SERVICE_PASSWORD!,
    });
    try {
      const info = await (
        await service.jetstreamManager({ timeout: 5000 })
      ).streams.info('AUTHMESH_REVOCATIONS');
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas?.length).toBe(2);
      expect(info.state.last_seq).toBe(1);
    } finally {
      await service.close();
    }
    for (const n of nodes) expect(n.log).not.toMatch(/authentication error/);
  });

  it('refuses a route with a wrong password (no container can join the cluster and bypass the users)', async (ctx) => {
    ctx.skip(!tool, NO_COMPOSE);
    const target = nodes[0]!;
    const socket = tcpConnect(ports[0]!.route, '127.0.0.1', () =>
      socket.write(
        'CONNECT {"user":"route","pass":"guessed","name":"rogue","cluster":"authmesh"}\r\nPING\r\n',
      ),
    );
    socket.on('error', () => undefined);
    try {
      await until(
        async () => /authentication error - User "route"/.test(target.log),
        10_000,
        'route refused',
      );
      expect(target.log).toMatch(/Router connection closed: Authentication Failure/);
    } finally {
      socket.destroy();
    }
  });

  it('does not start a node without NATS_ROUTE_PASSWORD, and says why', async (ctx) => {
    ctx.skip(!tool, NO_COMPOSE);
    const env = { ...file.services['nats-1']!.environment!, NATS_ROUTE_PASSWORD: '' };
    const node = start(env, localScript(file, 'nats-1', await freePorts(), join(store, 'no-route'), ports));
    expect(await exitCode(node)).toBe(1);
    expect(node.log).toMatch(/set NATS_ROUTE_PASSWORD/);
  });
});
