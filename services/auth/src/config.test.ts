import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const kek = randomBytes(32).toString('base64url');

describe('loadConfig', () => {
  it('applies the contract defaults; the issuer follows the HTTP address unless set', () => {
    const c = loadConfig({ AUTHMESH_KEK: kek, NODE_ENV: 'production' });
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

  it('production refuses to start without a KEK and says what to set; development goes without', () => {
    expect(() => loadConfig({ AUTHMESH_ENV: 'production' })).toThrow(
      /AUTHMESH_KEK: is required in production.*set AUTHMESH_KEK to 32 random bytes/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTHMESH_KEK: is required in production/);
    expect(loadConfig({ AUTHMESH_ENV: 'development' }).kek).toBeUndefined();
    // The contract's default: no KEK and no production signal → development (a KEK is generated, loudly).
    expect(loadConfig({}).env).toBe('development');
    expect(loadConfig({ NODE_ENV: 'production', AUTHMESH_ENV: 'development' }).env).toBe('development');
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
