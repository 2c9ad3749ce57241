// docker-compose.yml, validated by the Compose implementations on this machine (`config` needs no Docker
// daemon): Debian's docker-compose 1.29 (.ci/run installs it) and Compose v2 (`docker compose`) when
// present. With a KEK secret and the NATS passwords it is valid, keeps NATS off the host and gives each
// process its own NATS user; without a KEK, or without any one password, it is refused.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@authmesh/testing';
import { NATS_USERS } from './support/deploy-nats.js';

interface ComposeTool {
  name: string;
  command: string[];
  /** Turns `config` output into an object. */
  parse(stdout: string): ComposeFile;
}

interface ComposeService {
  environment?: Record<string, string>;
  ports?: unknown[];
  volumes?: (string | { source?: string; target?: string })[];
  secrets?: (string | { source: string })[];
  command?: string[] | string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/** The Compose implementations found here. 1.x prints YAML only: read it with the PyYAML it depends on. */
const tools: ComposeTool[] = [
  ...(works('docker-compose', ['version'])
    ? [
        {
          name: 'docker-compose (1.x)',
          command: ['docker-compose'],
          parse: (out: string) => {
            const r = spawnSync(
              'python3',
              ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'],
              { input: out, encoding: 'utf8' },
            );
            if (r.status !== 0) throw new Error(`cannot read the config output as YAML: ${r.stderr}`);
            return JSON.parse(r.stdout) as ComposeFile;
          },
        },
      ]
    : []),
  ...(works('docker', ['compose', 'version'])
    ? [
        {
          name: 'docker compose (v2)',
          command: ['docker', 'compose'],
          parse: (o: string) => JSON.parse(o) as ComposeFile,
        },
      ]
    : []),
];

const dir = mkdtempSync(join(tmpdir(), 'authmesh-compose-'));
const kekFile = join(dir, 'authmesh-kek');
writeFileSync(kekFile, 'A'.repeat(43), { mode: 0o600 });
// An empty env file: a developer's own `.env` beside docker-compose.yml must not change the outcome.
const emptyEnvFile = join(dir, 'empty.env');
writeFileSync(emptyEnvFile, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const complete: Record<string, string> = {
  AUTHMESH_KEK_FILE: kekFile,
  NATS_AUTH_PASSWORD: 'natsauth0',
  NATS_OPERATOR_PASSWORD: 'natsoperator0',
  NATS_SERVICE_PASSWORD: 'natsservice0',
  ECHO_CLIENT_SECRET: 'echo-secret',
};

/** `config` with exactly `vars` (and PATH/HOME) in the environment. */
function config(
  tool: ComposeTool,
  vars: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const args = [...tool.command.slice(1), '--env-file', emptyEnvFile, '-f', 'docker-compose.yml', 'config'];
  if (tool.command[0] === 'docker') args.push('--format', 'json');
  const proc = spawn(tool.command[0]!, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...vars },
    timeout: 60_000,
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const without = (name: string) => Object.fromEntries(Object.entries(complete).filter(([k]) => k !== name));
const natsUser = (s: ComposeService) => /^nats:\/\/([^:@]+):/.exec(s.environment?.NATS_URL ?? '')?.[1];
const mountsConfig = (s: ComposeService) =>
  (s.volumes ?? []).some((v) =>
    typeof v === 'string'
      ? v.includes('deploy/nats-server.conf:/etc/nats/nats-server.conf')
      : v.source?.endsWith('deploy/nats-server.conf') && v.target === '/etc/nats/nats-server.conf',
  );
const secretNames = (s: ComposeService) =>
  (s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source));

if (tools.length === 0) {
  it('validates docker-compose.yml with a Compose implementation', (ctx) => {
    ctx.skip(
      'no Compose implementation on this machine: neither `docker-compose` (apt-get install docker-compose, as .ci/run does) nor `docker compose`',
    );
  });
}

describe.each(tools)('docker-compose.yml under $name', (tool) => {
  it('is valid with a KEK secret and the NATS passwords: production, NATS unpublished, one NATS user per role', async () => {
    const r = await config(tool, complete);
    expect(r.status, r.stderr).toBe(0);
    const file = tool.parse(r.stdout);
    const s = file.services;

    // NATS: no port published to the host, every node started with the least-privilege config.
    for (const name of ['nats', 'nats-1', 'nats-2', 'nats-3']) {
      expect(s[name]?.ports ?? [], name).toEqual([]);
      expect(mountsConfig(s[name]!), name).toBe(true);
    }
    expect(s.nats!.command).toEqual(expect.arrayContaining(['-c', '/etc/nats/nats-server.conf']));
    expect(s.nats!.environment).toMatchObject({
      NATS_AUTH_PASSWORD: 'natsauth0',
      NATS_OPERATOR_PASSWORD: 'natsoperator0',
      NATS_SERVICE_PASSWORD: 'natsservice0',
    });

    // The KEK only as a secret file, for the auth service and the CLI; production mode, no fallback.
    expect(file.secrets?.authmesh_kek?.file).toBe(kekFile);
    for (const name of ['auth', 'cli', 'provision']) {
      expect(s[name]!.environment, name).toMatchObject({
        AUTHMESH_ENV: 'production',
        AUTHMESH_KEK_FILE: '/run/secrets/authmesh_kek',
      });
      expect(secretNames(s[name]!), name).toContain('authmesh_kek');
    }
    for (const [name, svc] of Object.entries(s)) {
      expect(svc.environment?.AUTHMESH_KEK, name).toBeUndefined();
      expect(svc.environment?.AUTHMESH_ENV, name).not.toBe('development');
    }

    // Each process connects as its own user (deploy/nats-server.conf grants each what it needs).
    expect(natsUser(s.auth!)).toBe(NATS_USERS.auth.user);
    expect(natsUser(s.cli!)).toBe(NATS_USERS.operator.user);
    expect(natsUser(s.provision!)).toBe(NATS_USERS.operator.user);
    expect(natsUser(s.echo!)).toBe(NATS_USERS.service.user);
    expect(natsUser(s['echo-b']!)).toBe(NATS_USERS.service.user);
    expect(secretNames(s.echo!)).toEqual([]);
  });

  it('is refused without a KEK, naming AUTHMESH_KEK_FILE (a KEK in AUTHMESH_KEK is no fallback)', async () => {
    const noKek = without('AUTHMESH_KEK_FILE');
    for (const r of await Promise.all([
      config(tool, noKek),
      config(tool, { ...noKek, AUTHMESH_KEK: 'A'.repeat(43) }),
    ])) {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/AUTHMESH_KEK_FILE/);
    }
  });

  it('is refused without any one of the NATS passwords, naming it', async () => {
    const names = ['NATS_AUTH_PASSWORD', 'NATS_OPERATOR_PASSWORD', 'NATS_SERVICE_PASSWORD'];
    const results = await Promise.all(names.map((name) => config(tool, without(name))));
    results.forEach((r, i) => {
      expect(r.status, names[i]).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(names[i]!));
    });
  });
});
