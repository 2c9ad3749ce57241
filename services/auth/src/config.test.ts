import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const kek = randomBytes(32).toString('base64url');

describe('loadConfig', () => {
  it('applies the contract defaults; the issuer follows the HTTP address unless set', () => {
    const c = loadConfig({ AUTHMESH_KEK: kek });
    expect(c).toMatchObject({
      env: 'production',
      natsServers: ['nats://127.0.0.1:4222'],
      grpcAddr: { host: '127.0.0.1', port: 50051 },
      httpAddr: { host: '127.0.0.1', port: 8080 },
      issuer: 'http://127.0.0.1:8080',
      issuerFollowsHttp: true,
      defaultAudience: 'authmesh',
      accessTtlSec: 300,
      signingAlg: 'EdDSA',
      keyRotationIntervalSec: 86_400,
      refreshIdleTtlSec: 1_209_600,
      refreshAbsoluteTtlSec: 2_592_000,
      refreshRetryGraceSec: 15,
      loginMaxFailures: 5,
      loginBaseDelayMs: 1000,
      trustedProxies: [],
      scryptN: 131_072,
      natsReplicas: 1,
      clockSkewSec: 30,
    });
    expect(c.kek).toEqual(Buffer.from(kek, 'base64url'));
    const d = loadConfig({
      AUTHMESH_KEK: kek,
      AUTHMESH_ISSUER: 'https://auth.example',
      NATS_URL: 'nats://a:1, nats://b:2',
      AUTHMESH_HTTP_ADDR: '[::1]:0',
      AUTHMESH_SIGNING_ALG: 'ES256',
    });
    expect(d).toMatchObject({
      issuer: 'https://auth.example',
      issuerFollowsHttp: false,
      natsServers: ['nats://a:1', 'nats://b:2'],
    });
    expect(d.httpAddr).toEqual({ host: '::1', port: 0 });
    expect(d.signingAlg).toBe('ES256');
  });

  it('is production unless development is asked for by name: no KEK → refused, naming AUTHMESH_KEK', () => {
    for (const env of [
      {},
      { AUTHMESH_ENV: 'production' },
      { NODE_ENV: 'development' },
      { NODE_ENV: 'test' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(
        /^AUTHMESH_KEK: is required \(AUTHMESH_ENV defaults to production\).*set AUTHMESH_KEK to 32 random bytes.*AUTHMESH_KEK_FILE.*AUTHMESH_ENV=development/,
      );
    }
    expect(loadConfig({ AUTHMESH_KEK: kek, NODE_ENV: 'development' }).env).toBe('production');
    expect(loadConfig({ AUTHMESH_ENV: 'development' })).toMatchObject({ env: 'development', kek: undefined });
    expect(loadConfig({ NODE_ENV: 'production', AUTHMESH_ENV: 'development' }).env).toBe('development');
  });

  it('reads the login throttle and the trusted proxies, naming a bad entry', () => {
    const c = loadConfig({
      AUTHMESH_KEK: kek,
      AUTHMESH_LOGIN_MAX_FAILURES: '3',
      AUTHMESH_TRUSTED_PROXIES: '10.0.0.0/8, ::1',
      AUTHMESH_REFRESH_RETRY_GRACE: '0',
    });
    expect(c).toMatchObject({
      loginMaxFailures: 3,
      trustedProxies: ['10.0.0.0/8', '::1'],
      refreshRetryGraceSec: 0,
    });
    expect(() => loadConfig({ AUTHMESH_KEK: kek, AUTHMESH_TRUSTED_PROXIES: 'lb.internal' })).toThrow(
      /^AUTHMESH_TRUSTED_PROXIES: "lb.internal" is not an IP address or CIDR range/,
    );
    expect(() => loadConfig({ AUTHMESH_KEK: kek, AUTHMESH_LOGIN_MAX_FAILURES: '0' })).toThrow(
      /^AUTHMESH_LOGIN_MAX_FAILURES: must be between 1 and 1000/,
    );
  });

  describe('AUTHMESH_KEK_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'authmesh-kek-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const file = (name: string, content: string): string => {
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };

    it('reads the KEK from a file (a trailing newline, as secrets usually have, is fine)', () => {
      const path = file('kek', `${kek}\n`);
      expect(loadConfig({ AUTHMESH_KEK_FILE: path })).toMatchObject({
        env: 'production',
        kek: Buffer.from(kek, 'base64url'),
      });
    });

    it('names the variable and the file, never the content', () => {
      const secretish = 'not-a-kek-but-secret-looking-content';
      const cases: Array<[Record<string, string>, RegExp]> = [
        [
          { AUTHMESH_KEK_FILE: join(dir, 'missing') },
          /^AUTHMESH_KEK_FILE: cannot read .*missing \(ENOENT\)$/,
        ],
        [{ AUTHMESH_KEK_FILE: dir }, /^AUTHMESH_KEK_FILE: cannot read .* \(EISDIR\)$/],
        [
          { AUTHMESH_KEK_FILE: file('bad', secretish) },
          /^AUTHMESH_KEK_FILE: the content of .*bad must be 32 bytes in base64url/,
        ],
        [
          { AUTHMESH_KEK_FILE: file('also', kek), AUTHMESH_KEK: kek },
          /^AUTHMESH_KEK_FILE: set either AUTHMESH_KEK or AUTHMESH_KEK_FILE, not both$/,
        ],
      ];
      for (const [env, message] of cases) {
        let err: Error | undefined;
        try {
          loadConfig(env);
        } catch (e) {
          err = e as Error;
        }
        expect(err?.message, JSON.stringify(env)).toMatch(message);
        expect(err?.message).not.toContain(secretish);
        expect(err?.message).not.toContain(kek);
        expect((err as { variable?: string }).variable).toBe('AUTHMESH_KEK_FILE');
      }
    });
  });

  it('names the bad variable and never echoes a KEK', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ AUTHMESH_KEK: 'c2VjcmV0LXRvby1zaG9ydA' }, /^AUTHMESH_KEK: must be 32 bytes/],
      [{ AUTHMESH_ENV: 'staging' }, /^AUTHMESH_ENV:/],
      [{ AUTHMESH_SIGNING_ALG: 'RS256' }, /^AUTHMESH_SIGNING_ALG:/],
      [{ AUTHMESH_GRPC_ADDR: 'localhost' }, /^AUTHMESH_GRPC_ADDR:/],
      [{ AUTHMESH_HTTP_ADDR: '127.0.0.1:70000' }, /^AUTHMESH_HTTP_ADDR:/],
      [{ AUTHMESH_ISSUER: 'ftp://x' }, /^AUTHMESH_ISSUER:/],
      [{ AUTHMESH_ACCESS_TTL: '5m' }, /^AUTHMESH_ACCESS_TTL: must be a whole number/],
      [{ AUTHMESH_ACCESS_TTL: '0' }, /^AUTHMESH_ACCESS_TTL: must be between/],
      [{ AUTHMESH_SCRYPT_N: '1000' }, /^AUTHMESH_SCRYPT_N: must be a power of two/],
      [{ AUTHMESH_NATS_REPLICAS: '7' }, /^AUTHMESH_NATS_REPLICAS:/],
      [{ AUTHMESH_REFRESH_IDLE_TTL: '99999999' }, /^AUTHMESH_REFRESH_IDLE_TTL: must not exceed/],
      [{ AUTHMESH_DEFAULT_AUDIENCE: 'a b' }, /^AUTHMESH_DEFAULT_AUDIENCE:/],
    ];
    for (const [env, message] of bad) {
      let err: unknown;
      try {
        loadConfig({ AUTHMESH_KEK: kek, ...env });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(env)).toBeInstanceOf(TypeError);
      expect((err as Error).message).toMatch(message);
      expect((err as { variable: string }).variable).toBe(Object.keys(env)[0]);
    }
    expect(() => loadConfig({ AUTHMESH_KEK: 'c2VjcmV0LXRvby1zaG9ydA' })).not.toThrow(/c2VjcmV0/);
  });
});
