// Shared setup for the attack, fault and race suites: nats-server (or a cluster), the auth service as a
// process provisioned through its CLI, echo processes, unary-call helpers, and the auth service's own
// signing key read back from KV (so the attack corpus can mint tokens that differ from real ones in
// exactly one claim or header).
import { spawn } from 'node:child_process';
import { createDecipheriv, createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'nats';
import {
  authGrpc,
  echoGrpc,
  type AuthServiceClient,
  type EchoClient,
  type TokenResponse__Output,
} from '@authmesh/proto';
import { ServiceProcess, repoRoot } from '@authmesh/testing';

/** The authmesh CLI entry point (from dist: build first). */
export const authBin = join(repoRoot, 'services/auth/bin/authmesh.js');
/** The echo entry point (from dist). */
export const echoMain = join(repoRoot, 'services/echo/dist/main.js');

/** The outcome of one unary call: status code (0 = OK), details, response. */
export interface CallResult<T = unknown> {
  code: number;
  details: string;
  res?: T;
}

type Unary = (
  req: object,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => unknown;

/** A unary call that never rejects; `metadata` overrides the default `authorization: Bearer <token>`. */
export function call<T = unknown>(
  client: unknown,
  method: string,
  req: object,
  token?: string,
  opts: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<CallResult<T>> {
  let md = opts.metadata;
  if (md === undefined) {
    md = new grpc.Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  }
  const fn = (client as Record<string, Unary>)[method]!;
  return new Promise((resolve) =>
    fn.call(client, req, md, { deadline: Date.now() + (opts.deadlineMs ?? 5000) }, (err, res) =>
      resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '', res: res as T }),
    ),
  );
}

/**
 * A typed unary call that resolves with the response or rejects with the `grpc.ServiceError` (for tests
 * that assert on thrown statuses). Sends `authorization: Bearer <token>` when `token` is non-empty; no
 * deadline unless `deadlineMs` is given.
 */
export function unary<Res = unknown>(
  client: unknown,
  method: string,
  req: object,
  token?: string,
  deadlineMs?: number,
): Promise<Res> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  const fn = (client as Record<string, Unary>)[method]!;
  const opts: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
  return new Promise((resolve, reject) =>
    fn.call(client, req, md, opts, (err, res) => (err ? reject(err) : resolve(res as Res))),
  );
}

/**
 * The env the e2e suites give the auth service (and its CLI): NATS, loopback ports chosen by the OS,
 * production mode with a fresh random KEK, cheap scrypt, no scheduled key rotation; `overrides` last.
 */
export function testAuthEnv(
  natsUrl: string,
  issuer: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    AUTHMESH_GRPC_ADDR: '127.0.0.1:0',
    AUTHMESH_HTTP_ADDR: '127.0.0.1:0',
    AUTHMESH_ISSUER: issuer,
    // Production mode (the default) with a fresh KEK; no KEK file from the runner's environment.
    AUTHMESH_ENV: 'production',
    AUTHMESH_KEK: randomBytes(32).toString('base64url'),
    AUTHMESH_KEK_FILE: '',
    AUTHMESH_SCRYPT_N: '1024',
    AUTHMESH_KEY_ROTATION_INTERVAL: '0',
    ...overrides,
  };
}

/** Starts `authmesh serve` with `env` and an insecure AuthService client to it. */
export async function startAuthService(
  env: Record<string, string>,
): Promise<{ proc: ServiceProcess; client: AuthServiceClient }> {
  const proc = await ServiceProcess.start({ name: 'auth', args: [authBin, 'serve'], env });
  const { AuthService } = authGrpc().authmesh.v1;
  const client = new AuthService(
    proc.grpc,
    grpc.credentials.createInsecure(),
  ) as unknown as AuthServiceClient;
  return { proc, client };
}

/** Starts an echo process (ECHO_GRPC_ADDR on a free loopback port) and an insecure Echo client to it. */
export async function startEchoService(opts: {
  issuer: string;
  /** The auth service's gRPC address (AUTHMESH_AUTH_TARGET). */
  authTarget: string;
  natsUrl: string;
  /** Process name in logs; default `echo`. */
  name?: string;
  /** Audience; default `echo`. */
  audience?: string;
  /** Extra env, last. */
  env?: Record<string, string>;
}): Promise<{ proc: ServiceProcess; client: EchoClient }> {
  const proc = await ServiceProcess.start({
    name: opts.name ?? 'echo',
    args: [echoMain],
    env: {
      ECHO_GRPC_ADDR: '127.0.0.1:0',
      AUTHMESH_AUDIENCE: opts.audience ?? 'echo',
      AUTHMESH_ISSUER: opts.issuer,
      AUTHMESH_AUTH_TARGET: opts.authTarget,
      NATS_URL: opts.natsUrl,
      ...opts.env,
    },
  });
  const { Echo } = echoGrpc().echo.v1;
  return { proc, client: new Echo(proc.grpc, grpc.credentials.createInsecure()) as unknown as EchoClient };
}

/** The `client_secret` from `authmesh client add` output (its last stdout line is JSON). */
export function clientSecretOf(stdout: string): string {
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { client_secret: string }).client_secret;
}

/** Runs the authmesh CLI with `env`; killed (SIGKILL) after `timeoutMs`, 20 s by default. */
export function runCli(
  env: Record<string, string>,
  args: string[],
  stdin = '',
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [authBin, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', reject);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(stdin);
  });
}

/** What the mesh provisions and how it runs the processes. */
export interface MeshOptions {
  /** NATS_URL (one server or a comma-separated cluster). */
  natsUrl: string;
  issuer: string;
  /** Extra auth-service env (e.g. AUTHMESH_NATS_REPLICAS, AUTHMESH_ACCESS_TTL). */
  authEnv?: Record<string, string>;
  /** Extra echo env. */
  echoEnv?: Record<string, string>;
  /** How many echo processes (audience `echo`). Default 1. */
  echoes?: number;
}

/** Users and clients every mesh has: alice (password grant, audience echo), svc (client, echo), admin. */
export const PASSWORD = 'correct horse battery staple';

/** A running auth service + echo processes against one NATS. */
export class Mesh {
  auth!: ServiceProcess;
  authClient!: AuthServiceClient;
  readonly echoes: { proc: ServiceProcess; client: EchoClient }[] = [];
  readonly secrets: Record<string, string> = {};
  readonly env: Record<string, string>;

  private constructor(readonly options: MeshOptions) {
    this.env = testAuthEnv(options.natsUrl, options.issuer, options.authEnv);
  }

  /** Provisions (CLI), starts auth then the echoes. Stops what it started when a step fails. */
  static async start(options: MeshOptions): Promise<Mesh> {
    const mesh = new Mesh(options);
    try {
      const u = await runCli(
        mesh.env,
        ['user', 'add', 'alice', '--roles', 'dev', '--scopes', 'echo:read', '--audiences', 'echo'],
        `${PASSWORD}\n`,
      );
      if (u.code !== 0) throw new Error(`user add failed: ${u.stderr}`);
      for (const [id, args] of [
        ['svc', ['--scopes', 'echo:read', '--audiences', 'echo']],
        ['admin', ['--scopes', 'authmesh:admin,echo:admin', '--audiences', 'echo']],
      ] as const) {
        const r = await runCli(mesh.env, ['client', 'add', id, ...args]);
        if (r.code !== 0) throw new Error(`client add ${id} failed: ${r.stderr}`);
        mesh.secrets[id] = clientSecretOf(r.stdout);
      }
      await mesh.startAuth();
      await Promise.all(Array.from({ length: options.echoes ?? 1 }, () => mesh.startEcho()));
      return mesh;
    } catch (err) {
      await mesh.stop();
      throw err;
    }
  }

  /** (Re)starts the auth service process and its client. */
  async startAuth(): Promise<void> {
    const started = await startAuthService(this.env);
    (this.authClient as unknown as grpc.Client | undefined)?.close();
    this.auth = started.proc;
    this.authClient = started.client;
  }

  /** Starts one more echo (audience `echo`) against this auth service. */
  async startEcho(env: Record<string, string> = {}): Promise<{ proc: ServiceProcess; client: EchoClient }> {
    const e = await startEchoService({
      issuer: this.options.issuer,
      authTarget: this.auth.grpc,
      natsUrl: this.options.natsUrl,
      env: { ...this.options.echoEnv, ...env },
    });
    this.echoes.push(e);
    return e;
  }

  /** An auth-service call. */
  authCall<T = TokenResponse__Output>(
    method: string,
    req: object,
    token?: string,
    deadlineMs?: number,
  ): Promise<CallResult<T>> {
    return call<T>(this.authClient, method, req, token, deadlineMs === undefined ? {} : { deadlineMs });
  }

  /** IssueToken; throws unless OK. */
  async issue(req: object): Promise<TokenResponse__Output> {
    const r = await this.authCall('IssueToken', req);
    if (r.code !== 0) throw new Error(`IssueToken failed with status ${r.code}: ${r.details}`);
    return r.res!;
  }

  /** alice's password login for audience echo (access + refresh token). */
  login(): Promise<TokenResponse__Output> {
    return this.issue({ password: { username: 'alice', password: PASSWORD }, audience: ['echo'] });
  }

  /** A client-credentials token of `id` for audience echo. */
  async clientToken(id: 'svc' | 'admin' = 'svc'): Promise<string> {
    return (
      await this.issue({
        client_credentials: { client_id: id, client_secret: this.secrets[id]! },
        audience: ['echo'],
      })
    ).access_token;
  }

  /**
   * The admin client's token for the auth service itself (the default audience, `authmesh`): the only
   * audience the auth service accepts on Revoke (an admin token for `echo` is refused there).
   */
  async adminToken(): Promise<string> {
    return (
      await this.issue({ client_credentials: { client_id: 'admin', client_secret: this.secrets.admin! } })
    ).access_token;
  }

  /** An echo call on echo `i`. */
  echo<T = unknown>(
    method: string,
    token?: string,
    opts: { metadata?: grpc.Metadata; i?: number; req?: object } = {},
  ): Promise<CallResult<T>> {
    const e = this.echoes[opts.i ?? 0]!;
    return call<T>(e.client, method, opts.req ?? {}, token, opts.metadata ? { metadata: opts.metadata } : {});
  }

  /**
   * The auth service's current signing key, opened from the AUTHMESH_KEYS ring with the KEK (the same
   * AES-256-GCM envelope as services/auth/src/keys/kek.ts: iv 12 || ciphertext || tag 16, AAD = kid).
   * Lets the corpus sign tokens that are genuine except for the one thing under test.
   */
  async signingKey(): Promise<{ kid: string; alg: string; key: KeyObject }> {
    const nc = await connect({ servers: this.options.natsUrl.split(',') });
    try {
      const kv = await nc.jetstream().views.kv('AUTHMESH_KEYS');
      const entry = await kv.get('ring');
      if (!entry) throw new Error('no key ring in AUTHMESH_KEYS');
      // Stored sealed with its record MAC: {"v":1,"mac":…,"record":<the ring>} (services/auth/src/stores/record-mac.ts).
      const ring = (
        JSON.parse(Buffer.from(entry.value).toString()) as {
          record: { keys: { kid: string; alg: string; state: string; sealed?: string }[] };
        }
      ).record;
      const cur = ring.keys.find((k) => k.state === 'current')!;
      const raw = Buffer.from(cur.sealed!, 'base64url');
      const d = createDecipheriv(
        'aes-256-gcm',
        Buffer.from(this.env.AUTHMESH_KEK!, 'base64url'),
        raw.subarray(0, 12),
      );
      d.setAAD(Buffer.from(cur.kid));
      d.setAuthTag(raw.subarray(raw.length - 16));
      const jwk = JSON.parse(
        Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString(),
      ) as { kty: string };
      return { kid: cur.kid, alg: cur.alg, key: createPrivateKey({ key: jwk, format: 'jwk' }) };
    } finally {
      await nc.close();
    }
  }

  /** Stops every process it started. */
  async stop(): Promise<void> {
    (this.authClient as unknown as grpc.Client | undefined)?.close();
    for (const e of this.echoes) (e.client as unknown as grpc.Client).close();
    await Promise.all(this.echoes.map((e) => e.proc.stop()));
    await this.auth?.stop();
  }
}

/** Polls `f` until it returns true; bounded in time. Returns the ms it took. */
export async function until(
  f: () => Promise<boolean>,
  ms: number,
  what: string,
  stepMs = 25,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await f()) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`${what}: not reached within ${ms} ms`);
}
