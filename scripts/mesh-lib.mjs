// The pieces of `npm start` (scripts/mesh.mjs) and `npm run demo` (scripts/demo.mjs): find or start
// NATS, start the auth service and echo instances as child processes, provision the demo identities.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
/** Local state of the dev mesh (gitignored): NATS store, demo credentials, the running mesh's addresses. */
export const stateDir = join(repoRoot, '.authmesh');
const credsFile = join(stateDir, 'demo-credentials.json');
export const meshFile = join(stateDir, 'mesh.json');
const cli = join(repoRoot, 'services/auth/bin/authmesh.js');

const natsCandidates = [
  process.env.NATS_SERVER_BIN,
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
  '/usr/local/bin/nats-server',
];

/** True when a NATS server with JetStream answers at `url` within ~1 s. */
export async function natsAnswers(url) {
  try {
    const nc = await connect({ servers: url.split(','), timeout: 1000, reconnect: false });
    try {
      await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
      return true;
    } finally {
      await nc.close();
    }
  } catch {
    return false;
  }
}

/** Starts a local `nats-server -js` on loopback with its store under .authmesh/nats; returns it or throws a how-to. */
export async function startLocalNats(url, log) {
  const bin = natsCandidates.find((p) => p && existsSync(p));
  if (!bin) {
    throw new Error(
      `No NATS server answers at ${url} and no nats-server binary was found.\n` +
        '  Install one (Debian/Ubuntu: `sudo apt-get install nats-server`; or https://github.com/nats-io/nats-server/releases)\n' +
        '  or point NATS_URL at a running NATS server with JetStream (e.g. `docker run -p 4222:4222 nats -js`).',
    );
  }
  const u = new URL(url.split(',')[0]);
  const port = u.port || '4222';
  const storeDir = join(stateDir, 'nats');
  mkdirSync(storeDir, { recursive: true });
  const proc = spawn(bin, ['-a', '127.0.0.1', '-p', port, '-js', '-sd', storeDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  proc.stderr.on('data', (d) => (output = (output + d).slice(-4000)));
  const url1 = `nats://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await natsAnswers(url1))) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited:\n${output}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server did not answer on ${url1} within 10 s:\n${output}`);
    }
    await sleep(100);
  }
  log(`started nats-server (JetStream, store ${storeDir}) on ${url1}`);
  return { name: 'nats-server', proc, url: url1 };
}

/** Spawns `node <args>` and resolves with its `{"event":"listening"}` line; stderr goes to `logFile`-like sink. */
export function startService(name, args, env, { onStderr, timeoutMs = 30_000 } = {}) {
  const proc = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  proc.stderr.on('data', (d) => {
    tail = (tail + d).slice(-4000);
    onStderr?.(name, d.toString());
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${name}: no listening line within ${timeoutMs} ms\n${tail}`));
    }, timeoutMs);
    const lines = createInterface({ input: proc.stdout });
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line);
        if (msg.event === 'listening') {
          clearTimeout(timer);
          resolve({ name, proc, listening: msg });
        }
      } catch {
        // not the JSON line
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening\n${tail}`));
    });
  });
}

/** Runs the `authmesh` CLI with `input` on stdin; resolves with {code, stdout, stderr}. */
export function runCli(args, env, input = '') {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [cli, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.once('error', reject);
    proc.once('exit', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(input);
  });
}

/**
 * Makes sure the demo user and the echo services' client exist with the saved credentials (the CLI
 * creates or replaces, so this is idempotent), generating them on the first run. The password and
 * secret are printed once by the caller, and kept in .authmesh/ (mode 600) for later runs.
 */
export async function provision(env, log) {
  const saved = existsSync(credsFile) ? JSON.parse(readFileSync(credsFile, 'utf8')) : undefined;
  const creds = saved ?? {
    username: 'demo',
    password: randomBytes(12).toString('base64url'),
    clientId: 'echo-relay',
    clientSecret: randomBytes(32).toString('base64url'),
  };
  if (saved) log(`reusing the demo credentials saved in ${credsFile}`);
  const user = await runCli(
    [
      'user',
      'add',
      creds.username,
      '--roles',
      'demo',
      '--scopes',
      'echo:read,echo:admin',
      '--audiences',
      'echo,echo-b',
    ],
    env,
    creds.password + '\n',
  );
  if (user.code !== 0) throw new Error(`authmesh user add failed:\n${user.stderr}`);
  // The echo services' own identity: ExchangeToken needs scope authmesh:exchange, the audiences it
  // may exchange for (--audiences) and those whose tokens it receives (--serves: echo and echo-b).
  const client = await runCli(
    [
      'client',
      'add',
      creds.clientId,
      '--scopes',
      'authmesh:exchange',
      '--audiences',
      'echo,echo-b',
      '--serves',
      'echo,echo-b',
      '--secret-stdin',
    ],
    env,
    creds.clientSecret + '\n',
  );
  if (client.code !== 0) throw new Error(`authmesh client add failed:\n${client.stderr}`);
  if (!saved) {
    mkdirSync(dirname(credsFile), { recursive: true });
    writeFileSync(credsFile, JSON.stringify(creds, null, 2) + '\n', { mode: 0o600 });
  }
  return { ...creds, created: !saved };
}

/** Stops child processes in reverse start order: SIGTERM, SIGKILL after 5 s. */
export async function stopAll(children) {
  for (const child of [...children].reverse()) {
    const { proc } = child;
    if (proc.exitCode !== null || proc.signalCode !== null) continue;
    await new Promise((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }
}

/**
 * Starts the whole dev mesh: NATS (found or started), the auth service, provisioning, and two echo
 * instances (audiences `echo` and `echo-b`, so Relay can be shown). Returns the addresses and a stop().
 */
export async function startMesh({ log = console.error, onStderr } = {}) {
  const children = [];
  try {
    const natsUrl = process.env.NATS_URL || 'nats://127.0.0.1:4222';
    let nats = natsUrl;
    if (await natsAnswers(natsUrl)) log(`using NATS at ${natsUrl}`);
    else {
      const local = await startLocalNats(natsUrl, log);
      children.push(local);
      nats = local.url;
    }
    const authAddr = process.env.AUTHMESH_GRPC_ADDR || '127.0.0.1:50051';
    const httpAddr = process.env.AUTHMESH_HTTP_ADDR || '127.0.0.1:8080';
    const env = {
      NATS_URL: nats,
      AUTHMESH_ENV: process.env.AUTHMESH_ENV || 'development',
      AUTHMESH_GRPC_ADDR: authAddr,
      AUTHMESH_HTTP_ADDR: httpAddr,
    };
    const auth = await startService('auth', [cli, 'serve'], env, { onStderr });
    children.push(auth);
    const authTarget = auth.listening.grpc;
    // Without AUTHMESH_ISSUER the auth service names itself after its bound HTTP address.
    const issuer = auth.listening.issuer ?? process.env.AUTHMESH_ISSUER ?? `http://${auth.listening.http}`;
    log(`auth service: gRPC ${authTarget}, HTTP ${auth.listening.http ?? httpAddr}`);

    const creds = await provision(env, log);
    const echoEnv = (audience, addr) => ({
      ...env,
      ECHO_GRPC_ADDR: addr,
      AUTHMESH_AUDIENCE: audience,
      AUTHMESH_AUTH_TARGET: authTarget,
      AUTHMESH_ISSUER: issuer,
      AUTHMESH_CLIENT_ID: creds.clientId,
      AUTHMESH_CLIENT_SECRET: creds.clientSecret,
    });
    const main = join(repoRoot, 'services/echo/dist/main.js');
    const [echo, echoB] = await Promise.all([
      startService('echo', [main], echoEnv('echo', process.env.ECHO_GRPC_ADDR || '127.0.0.1:50061'), {
        onStderr,
      }),
      startService('echo-b', [main], echoEnv('echo-b', process.env.ECHO_B_GRPC_ADDR || '127.0.0.1:50062'), {
        onStderr,
      }),
    ]);
    children.push(echo, echoB);
    const mesh = {
      nats,
      auth: authTarget,
      authHttp: auth.listening.http ?? httpAddr,
      issuer,
      echo: echo.listening.grpc,
      echoB: echoB.listening.grpc,
      pid: process.pid,
    };
    return {
      ...mesh,
      creds,
      children,
      writeMeshFile: () => writeFileSync(meshFile, JSON.stringify(mesh, null, 2) + '\n'),
      async stop() {
        rmSync(meshFile, { force: true });
        await stopAll(children);
      },
    };
  } catch (err) {
    await stopAll(children);
    throw err;
  }
}

/** The running mesh announced in .authmesh/mesh.json, if its process is alive. */
export function runningMesh() {
  if (!existsSync(meshFile)) return undefined;
  try {
    const mesh = JSON.parse(readFileSync(meshFile, 'utf8'));
    process.kill(mesh.pid, 0);
    const creds = existsSync(credsFile) ? JSON.parse(readFileSync(credsFile, 'utf8')) : undefined;
    return creds ? { ...mesh, creds } : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
