import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { isAuthError, toGrpcStatus } from '@authmesh/interceptor';

/** A failure an RPC handler reports as-is: a gRPC status and a short message that is safe to show. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: status,
    message: string,
    readonly metadata?: Metadata,
  ) {
    super(message);
  }
}

/** INVALID_ARGUMENT: a bad request field. */
export const invalidArgument = (message: string) => new RpcError(status.INVALID_ARGUMENT, message);
/** UNAUTHENTICATED: wrong credentials, bad or dead tokens. */
export const unauthenticated = (message: string) => new RpcError(status.UNAUTHENTICATED, message);
/** PERMISSION_DENIED: authenticated, but not allowed this. */
export const permissionDenied = (message: string) => new RpcError(status.PERMISSION_DENIED, message);

/** The one credential failure message of IssueToken: the same for unknown users and wrong secrets. */
export const INVALID_CREDENTIALS = 'invalid credentials';

/** True when `err` (or what caused it) is a NATS error: the state store or the stream is unreachable. */
function isNatsFailure(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === 'NatsError') return true;
    e =
      (e as { cause?: unknown; chainedError?: unknown }).cause ??
      (e as { chainedError?: unknown }).chainedError;
  }
  return false;
}

/**
 * The one mapping of the auth service's handler failures to gRPC status (STYLE.md §5): RpcErrors as
 * they are, AuthErrors through the interceptor's mapping, NATS failures as UNAVAILABLE, anything
 * else as INTERNAL with the stack in the log only. No detail ever carries a credential.
 */
export function toServiceError(err: unknown, log: Logger, rpc: string): Partial<ServiceError> {
  if (err instanceof RpcError) {
    return { code: err.code, details: err.message, ...(err.metadata ? { metadata: err.metadata } : {}) };
  }
  if (isAuthError(err)) return toGrpcStatus(err, log);
  if ((err as { name?: unknown } | null)?.name === 'PasswordHasherBusyError') {
    return { code: status.RESOURCE_EXHAUSTED, details: 'too many logins in progress, retry later' };
  }
  if (isNatsFailure(err)) {
    log.warn(
      { rpc, err: { name: (err as Error).name, code: (err as { code?: unknown }).code } },
      'state store unavailable',
    );
    return { code: status.UNAVAILABLE, details: 'auth state store unavailable' };
  }
  log.error({ rpc, err }, 'rpc failed');
  return { code: status.INTERNAL, details: 'internal error' };
}
