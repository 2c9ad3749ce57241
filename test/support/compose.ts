// docker-compose.yml as the Compose implementations on this machine read it (`config` needs no Docker
// daemon): Debian's docker-compose 1.29 (.ci/run installs it) and Compose v2 (`docker compose`) when present.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@authmesh/testing';

export interface ComposeTool {
  name: string;
  command: string[];
  /** Turns `config` output into an object. */
  parse(stdout: string): ComposeFile;
}

export interface ComposeService {
  environment?: Record<string, string>;
  ports?: unknown[];
  volumes?: (string | { source?: string; target?: string })[];
  secrets?: (string | { source: string })[];
  command?: string[] | string;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
}

const works = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/** The Compose implementations found here. 1.x prints YAML only: read it with the PyYAML it depends on. */
export const composeTools: ComposeTool[] = [
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

/** Why there is nothing to run the compose tests with, for their skip note. */
export const NO_COMPOSE =
  'no Compose implementation on this machine: neither `docker-compose` (apt-get install docker-compose, as .ci/run does) nor `docker compose`';

/** A temp dir holding a KEK file and an empty env file; remove it with `rmSync(dir, …)`. */
export function composeFixture(): { dir: string; kekFile: string; vars: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'authmesh-compose-'));
  const kekFile = join(dir, 'authmesh-kek');
  writeFileSync(kekFile, 'A'.repeat(43), { mode: 0o600 });
  writeFileSync(join(dir, 'empty.env'), '');
  return {
    dir,
    kekFile,
    // Every variable docker-compose.yml requires (passwords as docs/OPERATIONS.md makes them).
    vars: {
      AUTHMESH_KEK_FILE: kekFile,
      NATS_AUTH_PASSWORD: 'natsauth0',
      NATS_OPERATOR_PASSWORD: 'natsoperator0',
      NATS_SERVICE_PASSWORD: 'natsservice0',
      ECHO_CLIENT_SECRET: 'echo-secret',
    },
  };
}

/**
 * `config` of docker-compose.yml with exactly `vars` (and PATH/HOME) in the environment, and an empty env
 * file (`dir`/empty.env from `composeFixture`): a developer's own `.env` must not change the outcome.
 */
export function composeConfig(
  tool: ComposeTool,
  dir: string,
  vars: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const args = [
    ...tool.command.slice(1),
    '--env-file',
    join(dir, 'empty.env'),
    '-f',
    'docker-compose.yml',
    'config',
  ];
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
