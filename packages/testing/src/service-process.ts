import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The repository root (this file lives in packages/testing/{src,dist}/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The `listening` event a service prints on stdout: `{"event":"listening","grpc":"127.0.0.1:40123",...}`. */
export interface ListeningEvent {
  event: 'listening';
  grpc: string;
  http?: string;
  [key: string]: unknown;
}

export interface StartServiceOptions {
  /** Executable; default `process.execPath` (node). */
  command?: string;
  args: string[];
  /** Added to a copy of this process's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** How long to wait for the listening line, ms (default 20000). */
  timeoutMs?: number;
  /** A name used in error messages. */
  name?: string;
}

/** A service running as its own process, found through its `listening` line. */
export class ServiceProcess {
  /** Everything the process wrote (stdout + stderr), for assertions and failure messages. */
  output = '';
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    readonly name: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.stderr?.on('data', (d: Buffer) => this.append(d.toString()));
  }

  listening!: ListeningEvent;

  get grpc(): string {
    return this.listening.grpc;
  }

  get http(): string {
    if (!this.listening.http) throw new Error(`${this.name} announced no http address`);
    return this.listening.http;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private append(s: string): void {
    if (this.output.length < 1_000_000) this.output += s;
  }

  static start(options: StartServiceOptions): Promise<ServiceProcess> {
    const name = options.name ?? options.args.join(' ');
    const proc = spawn(options.command ?? process.execPath, options.args, {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(proc, name);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(
          new Error(`${name}: no listening line within ${options.timeoutMs ?? 20000} ms\n${service.output}`),
        );
      }, options.timeoutMs ?? 20_000);
      const lines = createInterface({ input: proc.stdout! });
      let announced = false;
      lines.on('line', (line) => {
        service.append(line + '\n');
        if (announced || !line.startsWith('{')) return;
        try {
          const msg = JSON.parse(line) as { event?: string };
          if (msg.event === 'listening') {
            announced = true;
            service.listening = msg as ListeningEvent;
            clearTimeout(timer);
            resolve(service);
          }
        } catch {
          // not our JSON line
        }
      });
      proc.once('exit', (code, signal) => {
        if (announced) return;
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) before listening\n${service.output}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  async stop(graceMs = 5000): Promise<number | null> {
    if (!this.running) return this.exited;
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** SIGKILL: the crash. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
