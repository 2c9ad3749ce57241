import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsServer, ServiceProcess } from '@authmesh/testing';
import { authBin, runCli } from './support/mesh.js';

// Production is the default (DESIGN.md `AUTHMESH_ENV`): without a KEK and without an explicit
// AUTHMESH_ENV=development, the auth service and every CLI command refuse to run, naming AUTHMESH_KEK,
// and nothing is written to NATS on the way. The CLI never generates a KEK or creates the key ring.
// Real nats-server, the service and the CLI as processes (build first).

let nats: NatsServer;
let dir: string;

/** No KEK, no AUTHMESH_ENV (empty counts as unset, and hides the runner's own variables). */
const bare = (): Record<string, string> => ({
  NATS_URL: nats.url,
  AUTHMESH_ENV: '',
  AUTHMESH_KEK: '',
  AUTHMESH_KEK_FILE: '',
  AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
  AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
  AUTHMESH_SCRYPT_N: '1024',
  // What decided before: it must not any more.
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
});

/** The names of the streams on the server (KV buckets are streams `KV_<bucket>`). */
async function streams(): Promise<string[]> {
  const nc = await connect({ servers: nats.url });
  try {
    const jsm = await nc.jetstreamManager();
    return (await jsm.streams.names().next()).sort();
  } finally {
    await nc.close();
  }
}

/** The keys of AUTHMESH_KEYS, or undefined when the bucket does not exist. */
async function keysBucketKeys(): Promise<string[] | undefined> {
  const nc = await connect({ servers: nats.url });
  try {
    const kv = await nc
      .jetstream()
      .views.kv('AUTHMESH_KEYS', { bindOnly: true })
      .catch(() => undefined);
    if (!kv) return undefined;
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    return keys.sort();
  } finally {
    await nc.close();
  }
}

beforeAll(async () => {
  nats = await NatsServer.start();
  dir = mkdtempSync(join(tmpdir(), 'authmesh-prod-default-'));
});

afterAll(async () => {
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('production by default', () => {
  it('the service without a KEK exits non-zero naming AUTHMESH_KEK (NODE_ENV does not decide)', async () => {
    const err = await ServiceProcess.start({ args: [authBin, 'serve'], env: bare(), name: 'auth' }).then(
      async (s) => {
        await s.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/exited \(1\) before listening/);
    expect(err?.message).toMatch(/AUTHMESH_KEK: is required \(AUTHMESH_ENV defaults to production\)/);
    expect(await streams()).toEqual([]);
  });

  it('every CLI command without a KEK exits non-zero naming AUTHMESH_KEK and writes nothing', async () => {
    const commands: Array<[string[], string]> = [
      [['user', 'add', 'mallory', '--scopes', 'authmesh:admin'], 'pw\n'],
      [['client', 'add', 'mallory-svc', '--scopes', 'authmesh:admin'], ''],
      [['keys', 'rotate'], ''],
      [['revoke', '--all'], ''],
      [['doctor'], ''],
    ];
    for (const [args, stdin] of commands) {
      const r = await runCli(bare(), args, stdin);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.stdout + r.stderr, args.join(' ')).toMatch(/AUTHMESH_KEK: is required/);
    }
    // Neither a development KEK nor a ring nor any bucket was created on the way.
    expect(await streams()).toEqual([]);
  }, 120_000); // several CLI and service processes: generous on a loaded machine

  it('reading public key data needs no KEK and creates nothing; without a ring it says so', async () => {
    const r = await runCli(bare(), ['keys', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no key ring in NATS/);
    expect(await streams()).toEqual([]);
  });

  it('in development the CLI uses the KEK the service stored, never one of its own', async () => {
    const dev = { ...bare(), AUTHMESH_ENV: 'development' };
    // Before the service ever ran: no development KEK to use, so nothing happens.
    for (const args of [
      ['keys', 'rotate'],
      ['revoke', '--all'],
    ]) {
      const r = await runCli(dev, args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/AUTHMESH_KEK: not set, and no development KEK is stored/);
    }
    const keys = await keysBucketKeys();
    expect(keys ?? []).not.toContain('dev-kek');
    expect(keys ?? []).not.toContain('ring');

    // The service (development, explicitly) generates it; then the CLI works under it.
    const auth = await ServiceProcess.start({ args: [authBin, 'serve'], env: dev, name: 'auth-dev' });
    try {
      expect(auth.output).toContain('AUTHMESH_ENV=development');
      const rotated = await runCli(dev, ['keys', 'rotate']);
      expect(rotated.code, rotated.stderr).toBe(0);
      expect(rotated.stderr).toContain('AUTHMESH_ENV=development'); // the same loud warning
      const listed = await runCli(bare(), ['keys', 'list']); // public data: no KEK at all
      expect(listed.code, listed.stderr).toBe(0);
      const states = listed.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { state: string }).state);
      expect(states.sort()).toEqual(['current', 'next', 'retired']);
    } finally {
      await auth.stop();
    }
  }, 120_000); // several CLI and service processes: generous on a loaded machine
});

describe('AUTHMESH_KEK_FILE', () => {
  it('a KEK from a file (trailing newline) runs the service and the CLI; a bad file is named, never shown', async () => {
    const fresh = await NatsServer.start();
    try {
      const kek = randomBytes(32).toString('base64url');
      const file = join(dir, 'kek');
      writeFileSync(file, `${kek}\n`, { mode: 0o600 });
      const env = { ...bare(), NATS_URL: fresh.url, AUTHMESH_KEK_FILE: file };
      const auth = await ServiceProcess.start({ args: [authBin, 'serve'], env, name: 'auth-kek-file' });
      try {
        expect(auth.output).not.toContain('AUTHMESH_ENV=development');
        const r = await runCli(env, ['keys', 'rotate']);
        expect(r.code, r.stderr).toBe(0);
      } finally {
        await auth.stop();
      }
      const wrong = join(dir, 'not-a-kek');
      writeFileSync(wrong, 'this-is-some-secret-looking-text\n');
      const bad = await runCli({ ...env, AUTHMESH_KEK_FILE: wrong }, ['keys', 'rotate']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/AUTHMESH_KEK_FILE: the content of .*not-a-kek must be 32 bytes/);
      expect(bad.stderr).not.toContain('this-is-some-secret-looking-text');
    } finally {
      await fresh.stop();
    }
  }, 120_000); // several CLI and service processes: generous on a loaded machine
});
