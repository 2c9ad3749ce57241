// Adoption, as a team outside this repository does it: `npm pack` the workspaces, copy examples/billing
// (its own package.json and billing.v1 proto) to a temp directory OUTSIDE the repository, install it from
// the tarballs, and run its server and client against a real auth service and nats-server. Nothing of
// this repository's layout is reachable from there, so a file missing from a package fails here. A second
// project holds the client alone, installed with @authmesh/client only: no server dependency may come in.
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, ServiceProcess, repoRoot } from '@authmesh/testing';
import { Mesh, PASSWORD, call, runCli, until } from './support/mesh.js';

const run = promisify(execFile);
const ISSUER = 'http://auth.example.test';

let work: string;
let app: string;
let clientOnly: string;
let tarballs: Record<string, string> = {};
let nats: NatsServer;
let mesh: Mesh;
let billing: ServiceProcess;

/** Runs `npm` with `args` in `cwd` (quiet, bounded). */
async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, timeout: 120_000, maxBuffer: 16 << 20 });
  return stdout;
}

/** Runs the example's client.js from the temp install; one parsed JSON line per method. */
async function runClient(env: Record<string, string>, dir = app): Promise<Record<string, string>> {
  const { stdout } = await run(process.execPath, [join(dir, 'client.js')], {
    cwd: dir,
    timeout: 20_000,
    env: {
      ...process.env,
      AUTHMESH_AUTH_TARGET: mesh.auth.grpc,
      BILLING_TARGET: billing.grpc,
      BILLING_USER: '',
      ...env,
    },
  });
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { method: string; status: string });
  return Object.fromEntries(lines.map((l) => [l.method, l.status]));
}

/** Bare specifiers reachable through static and dynamic imports from `entry` (relative ones followed). */
function bareImports(entry: string): Set<string> {
  const bare = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec));
      else bare.add(spec);
    }
  };
  visit(entry);
  return bare;
}

function du(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += du(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'authmesh-adoption-'));
  expect(relative(repoRoot, work).startsWith('..')).toBe(true); // really outside the repository
  // Pack every publishable workspace (dist is built by `npm test`'s pretest).
  const packed = JSON.parse(
    await npm(
      [
        'pack',
        '--json',
        '-w',
        'packages/client',
        '-w',
        'packages/interceptor',
        '-w',
        'services/auth',
        '--pack-destination',
        work,
      ],
      repoRoot,
    ),
  ) as { name: string; filename: string }[];
  tarballs = Object.fromEntries(packed.map((p) => [p.name, join(work, p.filename)]));
  app = join(work, 'billing');
  cpSync(join(repoRoot, 'examples/billing'), app, {
    recursive: true,
    filter: (src) => !src.includes('node_modules'),
  });
  // Another team's project that only calls billing: the client, the proto, @authmesh/client.
  clientOnly = join(work, 'billing-client');
  cpSync(app, clientOnly, { recursive: true, filter: (src) => !/server\.js$/.test(src) });
  const manifest = JSON.parse(readFileSync(join(clientOnly, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  delete manifest.dependencies['@authmesh/interceptor'];
  writeFileSync(join(clientOnly, 'package.json'), JSON.stringify(manifest, null, 2));
  nats = await NatsServer.start();
  const started = Mesh.start({ natsUrl: nats.url, issuer: ISSUER, echoes: 0 });
  // The installs and the mesh start overlap: each takes seconds.
  const flags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
  await npm(
    [
      'install',
      tarballs['@authmesh/client']!,
      tarballs['@authmesh/interceptor']!,
      '@grpc/grpc-js',
      '@grpc/proto-loader',
      ...flags,
    ],
    app,
  );
  await npm(
    ['install', tarballs['@authmesh/client']!, '@grpc/grpc-js', '@grpc/proto-loader', ...flags],
    clientOnly,
  );
  mesh = await started;
  for (const [user, scopes] of [
    ['ann', 'billing:read'],
    ['root', 'billing:read,billing:admin'],
  ] as const) {
    const r = await runCli(
      mesh.env,
      ['user', 'add', user, '--scopes', scopes, '--audiences', 'billing'],
      `${PASSWORD}\n`,
    );
    expect(r.code, r.stderr).toBe(0);
  }
  billing = await ServiceProcess.start({
    name: 'billing example',
    args: [join(app, 'server.js')],
    cwd: app,
    env: {
      AUTHMESH_ISSUER: ISSUER,
      AUTHMESH_AUTH_TARGET: mesh.auth.grpc,
      NATS_URL: nats.url,
      BILLING_GRPC_ADDR: '127.0.0.1:0',
    },
  });
}, 150_000);

afterAll(async () => {
  await billing?.stop();
  await mesh?.stop();
  await nats?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('carry the licence, the protos and no tests', async () => {
    const list = async (name: string) =>
      (await run('tar', ['-tzf', tarballs[name]!])).stdout.split('\n').filter((f) => f !== '');
    // Both ship authmesh's protos: the client for its AuthService stub, the interceptor for `protoDir`.
    for (const name of ['@authmesh/client', '@authmesh/interceptor']) {
      const files = await list(name);
      expect(files, name).toContain('package/proto/authmesh/v1/options.proto');
      expect(files, name).toContain('package/proto/authmesh/v1/auth.proto');
    }
    for (const name of ['@authmesh/client', '@authmesh/interceptor', '@authmesh/auth']) {
      const files = await list(name);
      expect(files, name).toContain('package/LICENSE');
      expect(
        files.filter((f) => /\.test\.|tsbuildinfo/.test(f)),
        name,
      ).toEqual([]);
    }
    for (const name of ['@authmesh/client', '@authmesh/interceptor', '@authmesh/auth']) {
      const pkg = JSON.parse(
        (await run('tar', ['-xzOf', tarballs[name]!, 'package/package.json'])).stdout,
      ) as Record<string, unknown>;
      expect(pkg.license, name).toBe('Apache-2.0');
      expect(JSON.stringify(pkg.dependencies), name).not.toContain('@authmesh/proto');
    }
  });

  it('install with grpc-js as a peer, the protos resolved from the package', () => {
    expect(existsSync(join(app, 'node_modules/@authmesh/client/proto/authmesh/v1/options.proto'))).toBe(true);
    // One grpc-js: the app's (a nested copy would be a second, incompatible instance); one client package.
    for (const pkg of ['client', 'interceptor'])
      expect(existsSync(join(app, `node_modules/@authmesh/${pkg}/node_modules/@grpc/grpc-js`)), pkg).toBe(
        false,
      );
    expect(existsSync(join(app, 'node_modules/@authmesh/interceptor/node_modules/@authmesh/client'))).toBe(
      false,
    );
  });

  it('a client-only install has no server dependency, and its entry point imports none', () => {
    for (const pkg of [
      '@authmesh/interceptor',
      'nats',
      'jose',
      'prom-client',
      '@grpc/reflection',
      'grpc-health-check',
    ])
      expect(existsSync(join(clientOnly, 'node_modules', pkg)), pkg).toBe(false);
    const bare = bareImports(join(clientOnly, 'node_modules/@authmesh/client/dist/index.js'));
    const external = [...bare].filter((s) => !s.startsWith('node:')).sort();
    expect(external).toEqual(['@grpc/grpc-js', '@grpc/proto-loader']);
    const mb = (dir: string) => `${(du(join(dir, 'node_modules')) / 1e6).toFixed(1)} MB`;
    console.log(
      `node_modules: server (interceptor + client + grpc-js + proto-loader) ${mb(app)}; client only (client + grpc-js + proto-loader) ${mb(clientOnly)}`,
    );
  });

  it('load with require() as well as import', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        `const m = require('@authmesh/interceptor'); const c = require('@authmesh/interceptor/client');
         const k = require('@authmesh/client');
         const fs = require('node:fs'), path = require('node:path');
         const has = (dir) => fs.existsSync(path.join(dir, 'authmesh/v1/options.proto')) && fs.existsSync(path.join(dir, 'authmesh/v1/auth.proto'));
         console.log(typeof m.createServerAuth, typeof c.passwordSource, c.passwordSource === k.passwordSource,
           m.protoDir.includes(path.join('@authmesh', 'interceptor')) && c.protoDir === m.protoDir && has(m.protoDir) && has(k.protoDir))`,
      ],
      { cwd: app },
    );
    expect(stdout.trim()).toBe('function function true true');
  });
});

describe('the billing example, installed outside the repository', () => {
  it('without a token: the public method only', async () => {
    expect(await runClient({})).toEqual({
      GetPrice: 'OK',
      GetInvoice: 'UNAUTHENTICATED',
      RefundInvoice: 'UNAUTHENTICATED',
    });
  });

  it('a user without billing:admin: no refund', async () => {
    expect(await runClient({ BILLING_USER: 'ann', BILLING_PASSWORD: PASSWORD })).toEqual({
      GetPrice: 'OK',
      GetInvoice: 'OK',
      RefundInvoice: 'PERMISSION_DENIED',
    });
  });

  it('a user with billing:admin: everything', async () => {
    expect(await runClient({ BILLING_USER: 'root', BILLING_PASSWORD: PASSWORD })).toEqual({
      GetPrice: 'OK',
      GetInvoice: 'OK',
      RefundInvoice: 'OK',
    });
  });

  it('the same client, from the client-only project', async () => {
    expect(await runClient({ BILLING_USER: 'ann', BILLING_PASSWORD: PASSWORD }, clientOnly)).toEqual({
      GetPrice: 'OK',
      GetInvoice: 'OK',
      RefundInvoice: 'PERMISSION_DENIED',
    });
  });

  it('a revoked token is refused within milliseconds', async () => {
    const def = protoLoader.loadSync('billing/v1/billing.proto', {
      includeDirs: [join(app, 'proto'), join(app, 'node_modules/@authmesh/client/proto')],
    });
    const { Billing } = (grpc.loadPackageDefinition(def) as any).billing.v1;
    const client = new Billing(billing.grpc, grpc.credentials.createInsecure());
    try {
      const token = (
        await mesh.issue({ password: { username: 'ann', password: PASSWORD }, audience: ['billing'] })
      ).access_token;
      expect((await call(client, 'GetInvoice', { id: 'inv-1' }, token)).code).toBe(grpc.status.OK);
      const admin = await mesh.issue({
        client_credentials: { client_id: 'admin', client_secret: mesh.secrets.admin! },
      });
      const revoked = await mesh.authCall(
        'Revoke',
        { jti: decodeJwt(token).jti, reason: 'example test' },
        admin.access_token,
      );
      expect(revoked.code, revoked.details).toBe(grpc.status.OK);
      let polls = 0;
      const ms = await until(
        async () =>
          ++polls > 0 &&
          (await call(client, 'GetInvoice', { id: 'inv-1' }, token)).code === grpc.status.UNAUTHENTICATED,
        5000,
        'revoked token refused by the example server',
        1,
      );
      console.log(
        `example: Revoke returned -> refused by the installed server in ${ms.toFixed(1)} ms (${polls} calls)`,
      );
      // Typically the first call after Revoke returns is refused (~1 ms on a quiet machine); the bound
      // leaves room for a loaded CI machine, where one call alone can take a few hundred ms.
      expect(ms).toBeLessThan(2000);
    } finally {
      client.close();
    }
  });
});
