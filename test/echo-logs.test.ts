// The echo service's log lines never carry credentials from its environment (a NATS_URL with
// user:password). Runs the built service (dist) against nothing: the start-up line is written before
// any connection is made, so no NATS or auth service is needed.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@authmesh/testing';
import { echoMain } from './support/mesh.js';

/** Starts echo, collects stderr until `done(stderr)` is true (or 10 s), then kills it. */
function startupStderr(env: Record<string, string>, done: (stderr: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [echoMain], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const finish = () => {
      clearTimeout(timer);
      proc.kill('SIGKILL');
      resolve(stderr);
    };
    const timer = setTimeout(finish, 10_000);
    proc.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (done(stderr)) finish();
    });
    proc.once('error', reject);
  });
}

describe('echo logs', () => {
  it('does not log the password of a NATS_URL (user:password@host)', async () => {
    const stderr = await startupStderr(
      {
        ECHO_GRPC_ADDR: '127.0.0.1:0',
        // Nothing listens on port 1: the service keeps waiting, having logged its start-up line.
        NATS_URL: 'nats://svc:n4ts-s3cret-pw@127.0.0.1:1,nats://svc:n4ts-s3cret-pw@127.0.0.1:2',
        AUTHMESH_AUTH_TARGET: '127.0.0.1:1',
      },
      (s) => s.includes('waiting for keys'),
    );
    expect(stderr).toContain('waiting for keys');
    expect(stderr).not.toContain('n4ts-s3cret-pw');
    // Still says where it connects.
    expect(stderr).toContain('127.0.0.1:1');
  });

  it('refuses URLs with different credentials at start, naming neither password', async () => {
    // One connection authenticates once: two sets of credentials cannot both be used.
    const stderr = await startupStderr(
      {
        ECHO_GRPC_ADDR: '127.0.0.1:0',
        NATS_URL: 'nats://svc:n4ts-s3cret-pw@127.0.0.1:1,nats://other:0ther-pw@127.0.0.1:2',
        AUTHMESH_AUTH_TARGET: '127.0.0.1:1',
      },
      (s) => s.includes('same ones'),
    );
    expect(stderr).toContain('every URL that carries credentials must carry the same ones');
    expect(stderr).not.toContain('n4ts-s3cret-pw');
    expect(stderr).not.toContain('0ther-pw');
  });
});
