import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AuthError } from '@authmesh/interceptor';
import { PasswordHasherBusyError } from '../passwords.js';
import { invalidArgument, toServiceError } from './errors.js';

describe('toServiceError', () => {
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });

  it('passes RpcErrors through', () => {
    expect(toServiceError(invalidArgument('username is required'), log, 'T')).toEqual({
      code: status.INVALID_ARGUMENT,
      details: 'username is required',
    });
  });

  it('maps AuthErrors with the interceptor mapping (no jose text)', () => {
    const s = toServiceError(
      new AuthError('ERR_TOKEN_EXPIRED', '"exp" claim timestamp check failed'),
      log,
      'T',
    );
    expect(s.code).toBe(status.UNAUTHENTICATED);
    expect(s.details).toBe('token expired');
  });

  it('maps NATS failures (also wrapped) to UNAVAILABLE', () => {
    const nats = Object.assign(new Error('TIMEOUT'), { name: 'NatsError', code: 'TIMEOUT' });
    expect(toServiceError(nats, log, 'T').code).toBe(status.UNAVAILABLE);
    expect(toServiceError(new Error('publish failed', { cause: nats }), log, 'T').code).toBe(
      status.UNAVAILABLE,
    );
  });

  it('sheds a busy password hasher as RESOURCE_EXHAUSTED', () => {
    expect(toServiceError(new PasswordHasherBusyError(), log, 'T').code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('hides anything else behind INTERNAL "internal error", logging it', () => {
    const s = toServiceError(new Error('secret-looking detail'), log, 'T');
    expect(s).toEqual({ code: status.INTERNAL, details: 'internal error' });
    expect(lines.join('')).toContain('rpc failed');
  });
});
