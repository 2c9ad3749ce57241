import { status } from '@grpc/grpc-js';

/**
 * Why a token source or exchanger could not produce a token. `unavailable`: the auth service could
 * not be reached or was overloaded (worth retrying later); `rejected`: it refused the credentials or
 * the request; `closed`: the source was closed.
 */
export type TokenSourceErrorCode =
  'ERR_TOKEN_SOURCE_UNAVAILABLE' | 'ERR_TOKEN_SOURCE_REJECTED' | 'ERR_TOKEN_SOURCE_CLOSED';

/**
 * A client-side failure to obtain a token. The message is short and never contains a token, a
 * secret or a password; `grpcCode` is the status the auth service answered with (if any).
 */
export class TokenSourceError extends Error {
  override readonly name = 'TokenSourceError';
  constructor(
    readonly code: TokenSourceErrorCode,
    message: string,
    readonly grpcCode: status | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a TokenSourceError from any copy of this package (matches on `name` and `code`). */
export function isTokenSourceError(err: unknown): err is TokenSourceError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'TokenSourceError' &&
    typeof (err as { code?: unknown }).code === 'string'
  );
}

/** Status codes after which trying again later can succeed (the auth service is down or busy). */
const transient = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.CANCELLED,
  status.UNKNOWN,
  status.INTERNAL,
  status.ABORTED,
]);

/** The gRPC status code carried by an error from a grpc-js call, if any. */
export function grpcCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Wraps a failed auth-service call. `what` names the operation ("login", "refresh"...); the auth
 * service's own details are kept only as `cause`, so nothing it echoed can reach a log line.
 */
export function toTokenSourceError(err: unknown, what: string): TokenSourceError {
  if (isTokenSourceError(err)) return err;
  const code = grpcCodeOf(err);
  const name = code === undefined ? 'error' : (status[code] ?? String(code));
  if (code === undefined || transient.has(code)) {
    return new TokenSourceError('ERR_TOKEN_SOURCE_UNAVAILABLE', `authmesh: ${what} failed (${name})`, code, {
      cause: err,
    });
  }
  return new TokenSourceError('ERR_TOKEN_SOURCE_REJECTED', `authmesh: ${what} was refused (${name})`, code, {
    cause: err,
  });
}
