// Starts the real thing for the end-to-end suites: a nats-server of its own, the auth service
// provisioned through its CLI (as an operator would), and echo instances, all on 127.0.0.1:0.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.mjs';
import { profileArgs } from './profile.mjs';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const authBin = `${repo}services/auth/bin/authmesh.js`;
const echoMain = `${repo}services/echo/dist/main.js`;

/** Issuer of the bench mesh's tokens. */
export const meshIssuer = 'http://auth.bench.invalid';

/** Runs `authmesh <args>` with the mesh's env; resolves with stdout, rejects on a non-zero exit. */
function cli(env, args, stdin = '') {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [authBin, ...args], { cwd: repo, env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else
        reject(
          new Error(
            `authmesh ${args.slice(0, 2).join(' ')} exited ${code}: ${err.split('\n').slice(-3).join(' ')}`,
          ),
        );
    });
    p.stdin.end(stdin);
  });
}

/**
 * A mesh: nats + auth (+ echoes on demand). `users`: [{ name, password, scryptN? }] (scryptN is the
 * hash cost the user is created with; logins verify with the cost stored in the hash);
 * `clients`: [{ id, scopes, audiences }]. Secrets are returned for the bench's own clients only.
 */
export async function startMesh({ users = [], clients = [], authEnv = {} }) {
  for (const f of [authBin, echoMain])
    if (!existsSync(f)) throw new Error(`${f} missing: build first (npm run build)`);
  const { NatsServer, ServiceProcess } = await import('@authmesh/testing');
  const nats = await NatsServer.start();
  const stopNats = onCleanup(() => nats.stop());
  const env = {
    NATS_URL: nats.url,
    AUTHMESH_ENV: 'production',
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_ISSUER: meshIssuer,
    AUTHMESH_KEK: randomBytes(32).toString('base64url'),
    AUTHMESH_KEY_ROTATION_INTERVAL: '0',
    LOG_LEVEL: 'warn',
  };
  const secrets = {};
  for (const c of clients) {
    const out = await cli(env, [
      'client',
      'add',
      c.id,
      '--scopes',
      c.scopes.join(','),
      ...(c.audiences?.length ? ['--audiences', c.audiences.join(',')] : []),
    ]);
    secrets[c.id] = JSON.parse(out.trim().split('\n').pop()).client_secret;
  }
  for (const u of users) {
    const uEnv = u.scryptN ? { ...env, AUTHMESH_SCRYPT_N: String(u.scryptN) } : env;
    await cli(
      uEnv,
      [
        'user',
        'add',
        u.name,
        '--roles',
        'reader',
        '--scopes',
        (u.scopes ?? ['a']).join(','),
        '--audiences',
        (u.audiences ?? ['echo']).join(','),
      ],
      `${u.password}\n`,
    );
  }
  const auth = await ServiceProcess.start({
    name: 'auth',
    args: [...profileArgs('auth'), authBin, 'serve'],
    env: { ...env, ...authEnv },
  });
  const stopAuth = onCleanup(() => auth.stop());
  const echoes = [];
  const extraAuths = [];
  const mesh = {
    nats,
    auth,
    secrets,
    env,
    echoes,
    /** Starts one more auth replica on the same NATS and KEK, with `extraEnv` (e.g. another scrypt cost). */
    async addAuth(extraEnv = {}) {
      const replica = await ServiceProcess.start({
        name: `auth-${extraAuths.length + 2}`,
        args: [authBin, 'serve'],
        env: { ...env, ...authEnv, ...extraEnv },
      });
      extraAuths.push(onCleanup(() => replica.stop()));
      return replica;
    },
    /**
     * Starts `n` more echo instances (in batches, so 20 processes don't all boot at once on 2 cores),
     * with `extraEnv` (e.g. AUTHMESH_CLIENT_ID/SECRET: attributable mesh announcements).
     */
    async addEchoes(n, batch = 4, extraEnv = {}) {
      for (let i = 0; i < n; i += batch) {
        const started = await Promise.all(
          Array.from({ length: Math.min(batch, n - i) }, () =>
            ServiceProcess.start({
              name: `echo-${echoes.length}`,
              args: [...profileArgs('echo'), echoMain],
              env: {
                ECHO_GRPC_ADDR: '127.0.0.1:0',
                AUTHMESH_AUDIENCE: 'echo',
                AUTHMESH_ISSUER: meshIssuer,
                AUTHMESH_AUTH_TARGET: auth.grpc,
                NATS_URL: nats.url,
                LOG_LEVEL: 'warn',
                ...extraEnv,
              },
              timeoutMs: 60_000,
            }),
          ),
        );
        for (const e of started) echoes.push({ proc: e, stop: onCleanup(() => e.stop()) });
      }
      return echoes.map((e) => e.proc.grpc);
    },
    async stop() {
      await Promise.all(echoes.map((e) => e.stop()));
      await Promise.all(extraAuths.map((stop) => stop()));
      await stopAuth();
      await stopNats();
    },
  };
  return mesh;
}
