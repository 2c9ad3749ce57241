import { describe, expect, it } from 'vitest';
import type { Principal } from '@authmesh/interceptor';
import { toEchoPrincipal } from './principal.js';
import { loadConfig } from './config.js';

describe('toEchoPrincipal', () => {
  it('flattens the act chain nearest actor first and copies the claims', () => {
    const p = {
      sub: 'alice',
      clientId: 'cli',
      scopes: new Set(['echo:read']),
      roles: new Set(['dev']),
      aud: ['echo-b'],
      jti: 'j',
      sid: undefined,
      act: { sub: 'echo-svc', act: { sub: 'gateway' } },
    } as unknown as Principal;
    expect(toEchoPrincipal(p)).toEqual({
      sub: 'alice',
      scopes: ['echo:read'],
      roles: ['dev'],
      jti: 'j',
      sid: '',
      client_id: 'cli',
      aud: ['echo-b'],
      act: [{ sub: 'echo-svc' }, { sub: 'gateway' }],
    });
  });
});

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      grpcAddr: '127.0.0.1:50061',
      audience: 'echo',
      authTarget: '127.0.0.1:50051',
      stalePolicy: 'reject',
    });
  });
  it('names the bad variable', () => {
    expect(() => loadConfig({ AUTHMESH_STALE_POLICY: 'maybe' })).toThrow(/AUTHMESH_STALE_POLICY/);
    expect(() => loadConfig({ AUTHMESH_MAX_STALENESS_MS: '-1' })).toThrow(/AUTHMESH_MAX_STALENESS_MS/);
    expect(() => loadConfig({ AUTHMESH_CLIENT_ID: 'x' })).toThrow(/AUTHMESH_CLIENT_SECRET/);
  });
});
