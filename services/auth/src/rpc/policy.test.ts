import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { RpcError } from './errors.js';
import { grantAudience, grantScope } from './policy.js';
import { requireField, tokenList } from './validate.js';

describe('grantScope', () => {
  it('narrows a request to what is allowed and drops the rest', () => {
    expect(grantScope(['a', 'x'], ['a', 'b'])).toEqual(['a']);
    expect(grantScope(['x'], ['a'])).toEqual([]);
  });
  it('grants everything allowed when nothing is requested', () => {
    expect(grantScope([], ['a', 'b', 'a'])).toEqual(['a', 'b']);
  });
});

describe('grantAudience', () => {
  it('defaults to the default audience, which every subject may have', () => {
    expect(grantAudience([], [], 'authmesh')).toEqual(['authmesh']);
    expect(grantAudience(['authmesh'], [], 'authmesh')).toEqual(['authmesh']);
  });
  it('allows listed audiences and denies others with PERMISSION_DENIED', () => {
    expect(grantAudience(['echo', 'echo'], ['echo'], 'authmesh')).toEqual(['echo']);
    let err: unknown;
    try {
      grantAudience(['echo', 'billing'], ['echo'], 'authmesh');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).code).toBe(status.PERMISSION_DENIED);
  });
});

describe('request validation', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return { code: (e as RpcError).code, message: (e as RpcError).message };
    }
    return undefined;
  };
  it('rejects empty and oversize fields with INVALID_ARGUMENT naming the field, not the value', () => {
    expect(code(() => requireField('', 'username'))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: 'username is required',
    });
    const big = 'p'.repeat(1025);
    const r = code(() => requireField(big, 'password'));
    expect(r).toEqual({ code: status.INVALID_ARGUMENT, message: 'password is too long' });
    expect(requireField('p'.repeat(1024), 'password')).toHaveLength(1024);
  });
  it('checks scope lists: entries non-empty, without spaces, bounded in count', () => {
    expect(tokenList(['a', 'a', 'b'], 'scope')).toEqual(['a', 'b']);
    expect(code(() => tokenList(['a b'], 'scope'))?.code).toBe(status.INVALID_ARGUMENT);
    expect(code(() => tokenList([''], 'scope'))?.code).toBe(status.INVALID_ARGUMENT);
    expect(
      code(() =>
        tokenList(
          Array.from({ length: 65 }, (_, i) => `s${i}`),
          'scope',
        ),
      )?.code,
    ).toBe(status.INVALID_ARGUMENT);
  });
});
