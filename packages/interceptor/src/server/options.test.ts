import { describe, expect, it } from 'vitest';
import { echoPackageDefinition } from '@authmesh/proto';
import { FakeFeed, ISSUER } from './fixtures.test.js';
import type { ServerAuthOptions } from './options.js';
import { createServerAuth } from './server-auth.js';

const source = async () => ({ keys: [] });
const good = (): ServerAuthOptions => ({
  issuer: ISSUER,
  audience: 'echo',
  jwks: { source },
  revocations: { feed: new FakeFeed() },
});

describe('createServerAuth options', () => {
  it.each<[string, Partial<Record<keyof ServerAuthOptions, unknown>>, RegExp]>([
    ['issuer missing', { issuer: '' }, /^issuer: /],
    ['audience missing', { audience: undefined }, /^audience: /],
    ['audience empty array', { audience: [] }, /^audience: /],
    ['audience with acceptAnyAudience', { acceptAnyAudience: true }, /^audience: /],
    ['jwks missing', { jwks: undefined }, /^jwks: /],
    ['two jwks sources', { jwks: { source, jwksUri: 'https://x.test/jwks' } }, /^jwks: exactly one/],
    ['jwks.keyStore not a KeyStore', { jwks: { keyStore: {} } }, /^jwks.keyStore: /],
    [
      'jwks.authTarget non-loopback without credentials',
      { jwks: { authTarget: 'auth.internal:50051' } },
      /^credentials: /,
    ],
    [
      'jwks.jwksUri plain http off loopback',
      { jwks: { jwksUri: 'http://auth.internal/jwks.json' } },
      /^url: /,
    ],
    ['revocations missing', { revocations: undefined }, /^revocations: /],
    ['revocations without a feed', { revocations: {} }, /^revocations: a feed is required/],
    [
      'revocations.feed not a feed',
      { revocations: { feed: { isRevoked: () => false } } },
      /^revocations.feed: /,
    ],
    ['algorithms HS256', { algorithms: ['HS256'] }, /^algorithms: /],
    ['algorithms none', { algorithms: ['none'] }, /^algorithms: /],
    ['clockToleranceSec negative', { clockToleranceSec: -1 }, /^clockToleranceSec: /],
    ['cacheSize fractional', { cacheSize: 1.5 }, /^cacheSize: /],
    ['maxTokenBytes tiny', { maxTokenBytes: 10 }, /^maxTokenBytes: /],
    [
      'rules for an unknown method',
      { packageDefinition: echoPackageDefinition(), rules: { '/echo.v1.Echo/Nope': {} } },
      /^rules: /,
    ],
    ['onRejected not a function', { onRejected: 1 }, /^onRejected: /],
  ])('%s → TypeError naming the option', (_name, patch, message) => {
    expect(() => createServerAuth({ ...good(), ...patch } as ServerAuthOptions)).toThrow(TypeError);
    expect(() => createServerAuth({ ...good(), ...patch } as ServerAuthOptions)).toThrow(message);
  });

  it('accepts the explicit insecure choices and acceptAnyAudience without audience', async () => {
    const a = createServerAuth({
      issuer: ISSUER,
      acceptAnyAudience: true,
      jwks: { source },
      revocations: { allowInsecureNoRevocations: true },
    });
    expect(a.isReady()).toBe(false);
    await a.close();
  });
});
