import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { AuthError, type AuthErrorCode } from './errors.js';
import { toGrpcStatus } from './status.js';

const codes: [AuthErrorCode, status][] = [
  ['ERR_TOKEN_MISSING', status.UNAUTHENTICATED],
  ['ERR_TOKEN_MALFORMED', status.UNAUTHENTICATED],
  ['ERR_TOKEN_SIGNATURE', status.UNAUTHENTICATED],
  ['ERR_TOKEN_ALG', status.UNAUTHENTICATED],
  ['ERR_TOKEN_TYP', status.UNAUTHENTICATED],
  ['ERR_TOKEN_ISSUER', status.UNAUTHENTICATED],
  ['ERR_TOKEN_AUDIENCE', status.UNAUTHENTICATED],
  ['ERR_TOKEN_EXPIRED', status.UNAUTHENTICATED],
  ['ERR_TOKEN_NOT_YET_VALID', status.UNAUTHENTICATED],
  ['ERR_TOKEN_CLAIMS', status.UNAUTHENTICATED],
  ['ERR_TOKEN_REVOKED', status.UNAUTHENTICATED],
  ['ERR_KEY_UNKNOWN', status.UNAUTHENTICATED],
  ['ERR_SCOPE_MISSING', status.PERMISSION_DENIED],
  ['ERR_ROLE_MISSING', status.PERMISSION_DENIED],
  ['ERR_REVOCATIONS_STALE', status.UNAVAILABLE],
  ['ERR_NOT_READY', status.UNAVAILABLE],
  ['ERR_INTERNAL', status.INTERNAL],
];

describe('toGrpcStatus', () => {
  it.each(codes)('%s → %i with a fixed short detail, not the error message', (code, grpcCode) => {
    const secret = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln';
    const s = toGrpcStatus(new AuthError(code, `bad token ${secret}`));
    expect(s.code).toBe(grpcCode);
    expect(s.details).not.toContain(secret);
    expect(s.details.length).toBeLessThan(40);
  });

  it('unknown errors become INTERNAL "internal error"; the stack goes to the logger', () => {
    const logged: object[] = [];
    const s = toGrpcStatus(new Error('boom at db.ts:1'), { error: (obj) => logged.push(obj) });
    expect(s).toEqual({ code: status.INTERNAL, details: 'internal error' });
    expect(JSON.stringify(logged)).toContain('boom at db.ts:1');
  });

  it('matches AuthErrors by name and code, not instanceof (a second copy of the package)', () => {
    const foreign = Object.assign(new Error('x'), { name: 'AuthError', code: 'ERR_SCOPE_MISSING' });
    expect(toGrpcStatus(foreign).code).toBe(status.PERMISSION_DENIED);
  });
});
