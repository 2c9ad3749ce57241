import { fork } from 'node:child_process';
import { basename } from 'node:path';
import { onCleanup } from './cleanup.mjs';
import { profileArgs } from './profile.mjs';

/**
 * A bench helper process (node:child_process.fork) driven by request/response messages over IPC,
 * so the parent never shares a CPU-heavy event loop with what it measures.
 */
export class Child {
  #proc;
  #next = 1;
  #pending = new Map();
  #exited;
  output = '';

  constructor(script, { args = [], env = {}, execArgv = [] } = {}) {
    this.#proc = fork(script, args, {
      env: { ...process.env, ...env },
      execArgv: [...execArgv, ...profileArgs(basename(script, '.mjs'))],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (d) => {
      if (this.output.length < 200_000) this.output += d.toString();
    };
    this.#proc.stdout.on('data', keep);
    this.#proc.stderr.on('data', keep);
    this.#proc.on('message', (msg) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    });
    this.#exited = new Promise((resolve) => this.#proc.once('exit', (code, sig) => resolve(code ?? sig)));
    const unregister = onCleanup(() => this.stop(1000));
    this.#exited.then(unregister);
    this.#exited.then((code) => {
      for (const p of this.#pending.values())
        p.reject(new Error(`${script} exited (${code})\n${this.output.slice(-2000)}`));
      this.#pending.clear();
    });
  }

  get pid() {
    return this.#proc.pid;
  }

  /** Sends a command; resolves with the child's result, rejects after `timeoutMs`. */
  call(cmd, args = {}, timeoutMs = 120_000) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`child ${cmd}: no answer in ${timeoutMs} ms\n${this.output.slice(-2000)}`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(t), resolve(v)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
      this.#proc.send({ id, cmd, args });
    });
  }

  /** Asks the child to exit, then SIGKILLs it after `graceMs`. */
  async stop(graceMs = 3000) {
    if (this.#proc.exitCode !== null || this.#proc.signalCode !== null) return;
    try {
      this.#proc.send({ id: 0, cmd: 'exit', args: {} });
    } catch {
      // channel already closed
    }
    const t = setTimeout(() => this.#proc.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}

/** Child side: answers IPC commands with the given async handlers; `exit` ends the process. */
export function serveCommands(handlers, onExit = async () => {}) {
  process.on('message', async (msg) => {
    if (msg.cmd === 'exit') {
      await onExit().catch(() => {});
      process.exit(0);
    }
    const h = handlers[msg.cmd];
    try {
      if (!h) throw new Error(`unknown command ${msg.cmd}`);
      const result = await h(msg.args);
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: String(err?.stack ?? err) });
    }
  });
  process.on('disconnect', () => {
    onExit()
      .catch(() => {})
      .finally(() => process.exit(0));
  });
}
