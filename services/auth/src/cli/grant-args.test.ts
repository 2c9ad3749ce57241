import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { checkName, parseList, readSecret, UsageError } from './grant-args.js';
import { userAdd } from './user-add.js';

const io = (stdin: string) => {
  let out = '';
  return {
    io: {
      stdin: Readable.from([Buffer.from(stdin)]),
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (out += t) },
      env: {},
    },
    out: () => out,
  };
};

describe('grants CLI arguments', () => {
  it('reads a secret from stdin without its trailing newline, and refuses an empty one', async () => {
    expect(await readSecret(Readable.from([Buffer.from('s3cret\n')]), 'password')).toBe('s3cret');
    expect(await readSecret(Readable.from([Buffer.from('a b\r\n')]), 'password')).toBe('a b');
    await expect(readSecret(Readable.from([Buffer.from('\n')]), 'password')).rejects.toThrow(UsageError);
    await expect(readSecret(Readable.from([Buffer.from('x'.repeat(2000))]), 'password')).rejects.toThrow(
      /too long/,
    );
  });

  it('`user add` with an empty password fails before touching NATS, echoing nothing', async () => {
    const { io: cliIo } = io('');
    await expect(userAdd(['alice', '--scopes', 'a'], cliIo)).rejects.toThrow(/empty/);
    await expect(userAdd([], io('pw').io)).rejects.toThrow(UsageError);
  });

  it('parses comma lists and checks names', () => {
    expect(parseList('a, b,,a', 'scopes')).toEqual(['a', 'b']);
    expect(parseList(undefined, 'scopes')).toEqual([]);
    expect(() => checkName('x'.repeat(513), 'user name')).toThrow(/too long/);
    expect(() => checkName('a\nb', 'user name')).toThrow(/control/);
  });
});
