import type { Readable } from 'node:stream';

/** Where a grants CLI command reads and writes (process streams in production, buffers in tests). */
export interface CommandIo {
  readonly stdin: Readable;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /** `--json` was given: print machine-readable output only (one JSON document per line). */
  readonly json?: boolean;
}

/** A command-line usage error: the message says what is wrong; the command exits with 2. */
/**
 * A usage error for an argument a command does not take. The argument is named only when it looks like
 * a mistyped word: a pasted token or secret in the wrong place must not be echoed to the terminal/logs.
 */
export function unexpectedArgument(arg: string): UsageError {
  return new UsageError(
    /^[A-Za-z][A-Za-z0-9_-]{0,23}$/.test(arg) ? `unexpected argument "${arg}"` : 'unexpected argument',
  );
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `a,b, c` → `['a','b','c']` (empty entries dropped, no whitespace inside an entry). */
export function parseList(text: string | undefined, option: string): string[] {
  if (text === undefined) return [];
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of list)
    if (/\s/.test(item)) throw new UsageError(`--${option}: "${item}" contains whitespace`);
  return [...new Set(list)];
}

/**
 * Reads a secret from stdin: everything up to EOF, one trailing newline removed (so `echo pw |` and a
 * here-string work), at most `maxBytes` (default 1 KiB). Never echoed anywhere.
 */
export async function readSecret(stdin: Readable, what: string, maxBytes = 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > Math.max(4096, maxBytes + 2)) throw new UsageError(`${what} on stdin is too long`);
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new UsageError(`${what} on stdin is empty: refusing to set an empty ${what}`);
  if (Buffer.byteLength(text, 'utf8') > maxBytes)
    throw new UsageError(`${what} on stdin is too long (max ${maxBytes} bytes)`);
  return text;
}

/** A user or client name: non-empty, at most 512 characters (a `sub` revocation must fit), no control characters. */
export function checkName(name: string | undefined, what: string): string {
  if (name === undefined || name === '') throw new UsageError(`${what} is required`);
  if (name.length > 512) throw new UsageError(`${what} is too long (max 512 characters)`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new UsageError(`${what} contains control characters`);
  return name;
}
