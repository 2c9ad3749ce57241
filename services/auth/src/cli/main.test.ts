import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from './main.js';

async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdin: Readable.from([]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

describe('authmesh CLI frame', () => {
  it('lists commands on --help (0) and without a command (2)', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['serve', 'user add', 'client add', 'keys rotate', 'revoke', 'token inspect'])
      expect(help.stdout).toContain(name);
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: authmesh <command>');
  });

  it('prints per-command help; unknown commands and bad arguments are usage errors (2)', async () => {
    const h = await run(['keys', 'rotate', '--help']);
    expect(h).toMatchObject({ code: 0 });
    expect(h.stdout).toMatch(/^usage: authmesh keys rotate/);
    expect((await run(['token', 'inspect', '-h'])).stdout).toMatch(/^usage: authmesh token inspect/);
    const unknown = await run(['keys', 'explode']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "keys explode"');
    const extra = await run(['serve', 'now']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('authmesh serve: unexpected argument "now"');
    // Something pasted in the wrong place (a token, a secret) is refused without being echoed.
    const pasted = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl';
    for (const argv of [
      ['serve', pasted],
      ['keys', 'rotate', pasted],
      ['keys', 'list', pasted],
      ['doctor', pasted],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unexpected argument');
      expect(r.stderr).not.toContain(pasted);
    }
    const badFlag = await run(['token', 'inspect', '--bogus', 'x']);
    expect(badFlag.code).toBe(2);
    const notJwt = await run(['token', 'inspect', 'secret-looking-thing']);
    expect(notJwt.code).toBe(2);
    expect(notJwt.stderr).not.toContain('secret-looking-thing');
  });

  it('an unknown command echoes only command-like words: never a token or secret typed after it', async () => {
    const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const secret = 'Qm9ndXMtY2xpZW50LXNlY3JldC0yNTYtYml0cy0wMDAwMDA';
    for (const argv of [['token', token], ['inspect', token], [token], ['secret', secret]]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown command');
      expect(r.stderr).not.toContain(token);
      expect(r.stderr).not.toContain(secret);
    }
    expect((await run(['token', token])).stderr).toContain('unknown command "token"');
  });

  it('token inspect - reads a token longer than a password from stdin (a token with many scopes)', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const scope = Array.from({ length: 60 }, (_, i) => `orders:scope-${i}`).join(' ');
    const token = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k' })}.${b64({ sub: 'alice', exp: 1, scope })}.${'A'.repeat(86)}`;
    expect(token.length).toBeGreaterThan(1024);
    let stdout = '';
    let stderr = '';
    const code = await main(['token', 'inspect', '-', '--jwks-uri', 'http://127.0.0.1:1/jwks.json'], {
      stdin: Readable.from([`${token}\n`]),
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: {},
    });
    expect(stderr).toBe('');
    expect(code).toBe(1); // decoded, but not verified against that (unreachable) JWKS
    expect(JSON.parse(stdout)).toMatchObject({ claims: { sub: 'alice', scope }, verified: false });
  });

  it('--json is accepted by every command and makes token inspect print one compact JSON line', async () => {
    // A structurally valid, unsigned-by-us token: inspect decodes it, fails to verify (exit 1), prints JSON.
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const token = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k' })}.${b64({ sub: 'alice', exp: 1 })}.${'A'.repeat(86)}`;
    const env = { AUTHMESH_ENV: 'development' };
    const pretty = await run(['token', 'inspect', token, '--jwks-uri', 'http://127.0.0.1:1/jwks.json'], env);
    const compact = await run(
      ['token', 'inspect', '--json', token, '--jwks-uri', 'http://127.0.0.1:1/jwks.json'],
      env,
    );
    expect(pretty.code).toBe(1);
    expect(compact.code).toBe(1);
    expect(pretty.stdout.trim().split('\n').length).toBeGreaterThan(1);
    expect(compact.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(compact.stdout)).toMatchObject({ claims: { sub: 'alice' }, verified: false });
    expect(compact.stdout).not.toContain('A'.repeat(86));
    const badEnv = await run(['keys', 'rotate', '--json'], { AUTHMESH_ENV: 'production' });
    expect(badEnv.code).toBe(1); // not a usage error: the flag was accepted
  });

  it('a bad environment is a failure (1) naming the variable', async () => {
    for (const env of [{ AUTHMESH_ENV: 'production' }, {}]) {
      const r = await run(['keys', 'rotate'], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^authmesh keys rotate: AUTHMESH_KEK: is required/);
    }
  });
});
