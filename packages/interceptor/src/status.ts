import { status as Status } from '@grpc/grpc-js';
import { isAuthError, type AuthErrorCode } from './errors.js';

/** A gRPC status as `call.sendStatus` takes it. */
export interface GrpcStatus {
  code: Status;
  details: string;
}

/** Where `toGrpcStatus` reports unexpected errors (pino-compatible: `logger.error(obj, msg)`). */
export interface StatusLogger {
  error(obj: object, msg: string): void;
}

/*
 * The contract table (DESIGN.md, "Calling a protected service"). Details are fixed strings chosen
 * here, never the error's own message: nothing from jose, the token or its payload reaches a client.
 */
const TABLE: Record<AuthErrorCode, GrpcStatus> = {
  ERR_TOKEN_MISSING: { code: Status.UNAUTHENTICATED, details: 'missing bearer token' },
  ERR_TOKEN_MALFORMED: { code: Status.UNAUTHENTICATED, details: 'malformed token' },
  ERR_TOKEN_SIGNATURE: { code: Status.UNAUTHENTICATED, details: 'invalid token signature' },
  ERR_TOKEN_ALG: { code: Status.UNAUTHENTICATED, details: 'token algorithm not allowed' },
  ERR_TOKEN_TYP: { code: Status.UNAUTHENTICATED, details: 'not an access token' },
  ERR_TOKEN_ISSUER: { code: Status.UNAUTHENTICATED, details: 'untrusted token issuer' },
  ERR_TOKEN_AUDIENCE: { code: Status.UNAUTHENTICATED, details: 'token audience not accepted' },
  ERR_TOKEN_EXPIRED: { code: Status.UNAUTHENTICATED, details: 'token expired' },
  ERR_TOKEN_NOT_YET_VALID: { code: Status.UNAUTHENTICATED, details: 'token not yet valid' },
  ERR_TOKEN_CLAIMS: { code: Status.UNAUTHENTICATED, details: 'invalid token claims' },
  ERR_TOKEN_REVOKED: { code: Status.UNAUTHENTICATED, details: 'token revoked' },
  ERR_KEY_UNKNOWN: { code: Status.UNAUTHENTICATED, details: 'unknown signing key' },
  ERR_CERT_BINDING: { code: Status.UNAUTHENTICATED, details: 'token not bound to this client certificate' },
  ERR_SCOPE_MISSING: { code: Status.PERMISSION_DENIED, details: 'insufficient scope' },
  ERR_ROLE_MISSING: { code: Status.PERMISSION_DENIED, details: 'missing role' },
  ERR_REVOCATIONS_STALE: { code: Status.UNAVAILABLE, details: 'revocation state stale' },
  ERR_NOT_READY: { code: Status.UNAVAILABLE, details: 'authentication not ready' },
  ERR_INTERNAL: { code: Status.INTERNAL, details: 'internal error' },
};

const INTERNAL: GrpcStatus = TABLE.ERR_INTERNAL;

/**
 * The one mapping from an error to the gRPC status a caller sees. AuthErrors map by `code`;
 * anything else is INTERNAL "internal error", and its stack (never a token) goes to `logger`.
 *
 * @example call.sendStatus(toGrpcStatus(err, log))
 */
export function toGrpcStatus(err: unknown, logger?: StatusLogger): GrpcStatus {
  if (isAuthError(err)) {
    const mapped = TABLE[err.code];
    if (mapped !== undefined) return { code: mapped.code, details: mapped.details };
  }
  const stack = err instanceof Error ? err.stack : String(err);
  if (logger) logger.error({ err: stack }, 'unexpected error in authmesh interceptor');
  else console.error('authmesh: unexpected error in interceptor:', stack);
  return { code: INTERNAL.code, details: INTERNAL.details };
}
