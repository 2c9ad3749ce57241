import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './ports.js';

/** Where the nats-server binary is looked for, first match wins. */
const candidates = [
  process.env.NATS_SERVER_BIN,
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
  '/usr/local/bin/nats-server',
];

export function natsServerBinary(): string {
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) {
    throw new Error(
      'nats-server binary not found (looked in NATS_SERVER_BIN, /usr/sbin, /usr/bin, /usr/local/bin): ' +
        'install it with `apt-get install nats-server` or set NATS_SERVER_BIN',
    );
  }
  return found;
}

export interface NatsServerOptions {
  /** Client port; 0 (default) picks a free one. Kept across `restart()`. */
  port?: number;
  /** JetStream store dir; default a fresh temp dir, removed by `stop()`. Kept across `restart()`. */
  storeDir?: string;
  /** Extra command-line arguments (e.g. cluster settings). */
  args?: string[];
  /** Server name (needed in a cluster). */
  name?: string;
  /**
   * A nats-server.conf to start from (`-c`); the address, port and JetStream store given here override
   * its own, so the file must not set `store_dir` (nats-server refuses it twice). Variables it reads
   * from the environment (`$NAME`) come from `env`.
   */
  config?: string;
  /** Environment of the server process (with `config`: its `$NAME` variables). Default: this process's. */
  env?: Record<string, string>;
  /**
   * A user the config lets connect, to see the server ready when it requires authentication: it must be
   * allowed `$JS.API.INFO` and replies on `_INBOX.>`.
   */
  probeUser?: { user: string; pass: string };
}

/** A real nats-server with JetStream on 127.0.0.1, for tests. Always `stop()` it (or `await using`). */
export class NatsServer {
  readonly url: string;
  private proc: ChildProcess | undefined;
  private logText = '';
  private readonly ownsStore: boolean;

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly extraArgs: string[],
    ownsStore: boolean,
    private readonly launchOptions: Pick<NatsServerOptions, 'config' | 'env' | 'probeUser'> = {},
  ) {
    this.url = `nats://127.0.0.1:${port}`;
    this.ownsStore = ownsStore;
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const port = options.port || (await freePort());
    const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'authmesh-nats-'));
    const args = [...(options.name ? ['-n', options.name] : []), ...(options.args ?? [])];
    const server = new NatsServer(port, storeDir, args, options.storeDir === undefined, {
      config: options.config,
      env: options.env,
      probeUser: options.probeUser,
    });
    await server.launch();
    return server;
  }

  /** What the server logged (stderr, every run of it, at most about 1 MB): e.g. permission violations. */
  get log(): string {
    return this.logText;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private async launch(): Promise<void> {
    const bin = natsServerBinary();
    const { config, env, probeUser } = this.launchOptions;
    const args = [
      ...(config ? ['-c', config] : []),
      ...['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.extraArgs],
    ];
    const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    this.proc = proc;
    let log = '';
    proc.stderr?.on('data', (d: Buffer) => {
      if (log.length < 20_000) log += d.toString();
      if (this.logText.length < 1_000_000) this.logText += d.toString();
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!this.running) throw new Error(`nats-server exited during start (code ${proc.exitCode}):\n${log}`);
      try {
        const nc = await connect({ servers: this.url, timeout: 500, reconnect: false, ...probeUser });
        // JetStream answers only once the server (or cluster) has a meta leader.
        await (await nc.jetstreamManager({ timeout: 1000 })).getAccountInfo();
        await nc.close();
        return;
      } catch {
        if (Date.now() > deadline) {
          this.kill();
          throw new Error(`nats-server on ${this.url} did not answer within 10 s:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Starts the server again on the same port and store (after `kill()` or `stop({ keepStore: true })`). */
  async restart(): Promise<void> {
    if (this.running) await this.halt('SIGTERM');
    await this.launch();
  }

  /** SIGKILL: the abrupt failure. */
  kill(): void {
    this.proc?.kill('SIGKILL');
  }

  private halt(signal: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      proc.kill(signal);
    });
  }

  /** Stops the server and removes the temp store it created. */
  async stop(): Promise<void> {
    await this.halt('SIGTERM');
    if (this.ownsStore) rmSync(this.storeDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A 3-node (or n-node) JetStream cluster on loopback, for tests that kill a node. */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  /** All client URLs, comma-separated, as `NATS_URL` takes them. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  static async start(size = 3): Promise<NatsCluster> {
    const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
    const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`).join(',');
    const starts = clusterPorts.map((cp, i) =>
      NatsServer.start({
        name: `n${i + 1}`,
        args: ['--cluster_name', 'authmesh-test', '--cluster', `nats://127.0.0.1:${cp}`, '--routes', routes],
      }),
    );
    const settled = await Promise.allSettled(starts);
    const nodes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(nodes.map((n) => n.stop()));
      throw failed.reason;
    }
    return new NatsCluster(nodes);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Removes a directory, ignoring errors (test cleanup). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
