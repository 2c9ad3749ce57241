import { describe, expect, it } from 'vitest';
import { echoPackageDefinition } from '@authmesh/proto';
import type { Principal } from '../claims.js';
import { AUTHENTICATED, buildRules, checkRule } from './rules.js';

const principal = (scopes: string[], roles: string[] = []) =>
  ({ scopes: new Set(scopes), roles: new Set(roles) }) as unknown as Principal;

describe('buildRules', () => {
  it('reads (authmesh.v1.rule) from the echo proto; methods without a rule need authentication', () => {
    const rules = buildRules(echoPackageDefinition(), undefined);
    expect(rules.get('/echo.v1.Echo/Ping')).toMatchObject({ public: true, scopes: [], roles: [] });
    expect(rules.get('/echo.v1.Echo/Admin')).toMatchObject({ public: false, scopes: ['echo:admin'] });
    expect(rules.get('/echo.v1.Echo/WhoAmI')).toBe(AUTHENTICATED);
    expect(rules.get('/echo.v1.Echo/StreamWhoAmI')).toBe(AUTHENTICATED);
    expect(rules.get('/other.Svc/Method')).toBeUndefined(); // the interceptor falls back to AUTHENTICATED
  });

  it('an override wins over the proto', () => {
    const rules = buildRules(echoPackageDefinition(), {
      '/echo.v1.Echo/Ping': { scopes: ['ping'] },
      '/echo.v1.Echo/Admin': { public: true },
    });
    expect(rules.get('/echo.v1.Echo/Ping')).toMatchObject({ public: false, scopes: ['ping'] });
    expect(rules.get('/echo.v1.Echo/Admin')).toMatchObject({ public: true, scopes: [] });
  });

  it('rejects overrides for unknown paths and contradictory or malformed rules, naming the option', () => {
    const def = echoPackageDefinition();
    expect(() => buildRules(def, { '/echo.v1.Echo/Nope': {} })).toThrow(
      /^rules: .*not a method of packageDefinition/,
    );
    expect(() => buildRules(def, { 'echo.v1.Echo/Ping': {} })).toThrow(/^rules: /);
    expect(() => buildRules(def, { '/echo.v1.Echo/Ping': { public: true, scopes: ['x'] } })).toThrow(
      /^rules\["\/echo.v1.Echo\/Ping"\]: /,
    );
    expect(() => buildRules(def, { '/echo.v1.Echo/Ping': { scopes: [''] } })).toThrow(/scopes: /);
    expect(() => buildRules(def, { '/echo.v1.Echo/Ping': { public: 'yes' as never } })).toThrow(/public: /);
    // without a definition any well-formed path may be given
    expect(buildRules(undefined, { '/a.B/C': { roles: ['r'] } }).get('/a.B/C')).toMatchObject({
      roles: ['r'],
    });
  });
});

describe('checkRule', () => {
  it('requires every scope and every role', () => {
    const rule = { public: false, scopes: ['a', 'b'], roles: ['r'] };
    expect(() => checkRule(rule, principal(['a', 'b'], ['r']))).not.toThrow();
    expect(() => checkRule(rule, principal(['a'], ['r']))).toThrow(
      expect.objectContaining({ code: 'ERR_SCOPE_MISSING' }),
    );
    expect(() => checkRule(rule, principal(['a', 'b']))).toThrow(
      expect.objectContaining({ code: 'ERR_ROLE_MISSING' }),
    );
    expect(() => checkRule(AUTHENTICATED, principal([]))).not.toThrow();
  });
});
