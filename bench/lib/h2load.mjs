import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Finds h2load; when missing and running as root on Debian, installs nghttp2-client once.
 * Returns the path or undefined (with a hint printed by the caller).
 */
export function findH2load({ install = true } = {}) {
  const which = () =>
    spawnSync('sh', ['-c', 'command -v h2load'], { encoding: 'utf8' }).stdout.trim() || undefined;
  let bin = which();
  if (
    !bin &&
    install &&
    process.getuid?.() === 0 &&
    spawnSync('sh', ['-c', 'command -v apt-get']).status === 0
  ) {
    process.stderr.write('h2load missing: apt-get install -y nghttp2-client …\n');
    spawnSync(
      'sh',
      ['-c', 'apt-get install -y nghttp2-client || (apt-get update && apt-get install -y nghttp2-client)'],
      {
        stdio: 'ignore',
        timeout: 180_000,
      },
    );
    bin = which();
  }
  return bin;
}

export const h2loadHint =
  'h2load not found: install it with `sudo apt-get install -y nghttp2-client` (Debian/Ubuntu) or `brew install nghttp2`';

/** A gRPC unary request body: the 5-byte length-prefixed frame header + the protobuf message. */
export function grpcFrame(message) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/**
 * One h2load run against a gRPC unary method over one HTTP/2 connection with `streams` in flight.
 * Resolves with {rate, p50, p99, done, succeeded} (latencies in ms, from h2load's per-request log).
 * h2load sees HTTP status only: a gRPC error still answers 200, so callers check the server's count.
 */
export async function h2loadRun({
  bin,
  target,
  path,
  message,
  token,
  headers = {},
  streams,
  durationS,
  warmupS = 0.5,
}) {
  const dir = mkdtempSync(join(tmpdir(), 'authmesh-h2load-'));
  try {
    const body = join(dir, 'body.bin');
    const log = join(dir, 'log.tsv');
    writeFileSync(body, grpcFrame(message));
    const args = [
      '-c1',
      '-t1',
      `-m${streams}`,
      `-D${Math.round(durationS * 1000)}ms`,
      `--warm-up-time=${Math.round(warmupS * 1000)}ms`,
      '-d',
      body,
      '-H',
      'content-type: application/grpc',
      '-H',
      'te: trailers',
      // No HPACK dynamic table: every header goes literal on every request, as `authorization` does
      // from any client (RFC 7541 §7.1.3: it is never indexed). Otherwise h2load indexes a control
      // header after the first request and sends 2 bytes where the token costs ~400.
      '--encoder-header-table-size=0',
      `--log-file=${log}`,
    ];
    if (token) args.push('-H', `authorization: Bearer ${token}`);
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    args.push(`http://${target}${path}`);
    const out = await new Promise((resolve, reject) => {
      const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let s = '';
      p.stdout.on('data', (d) => (s += d));
      p.stderr.on('data', (d) => (s += d));
      const t = setTimeout(() => p.kill('SIGKILL'), (durationS + warmupS + 20) * 1000);
      p.on(
        'exit',
        (code) => (
          clearTimeout(t),
          code === 0 ? resolve(s) : reject(new Error(`h2load exited ${code}: ${s.slice(-500)}`))
        ),
      );
    });
    const rate = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out)?.[1]);
    const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded/.exec(out);
    const lat = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => Number(l.split('\t')[2]) / 1000)
      .sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)] : NaN);
    return { rate, done: Number(m?.[3]), succeeded: Number(m?.[4]), p50: q(0.5), p99: q(0.99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
