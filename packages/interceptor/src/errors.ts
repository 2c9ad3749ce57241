/**
 * Every failure the package reports carries a stable string `code`. Match on `code`, not on
 * `instanceof`: the package may be installed twice in one process.
 */
export type AuthErrorCode =
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_SIGNATURE'
  | 'ERR_TOKEN_ALG'
  | 'ERR_TOKEN_TYP'
  | 'ERR_TOKEN_ISSUER'
  | 'ERR_TOKEN_AUDIENCE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_CLAIMS'
  | 'ERR_TOKEN_REVOKED'
  | 'ERR_KEY_UNKNOWN'
  | 'ERR_CERT_BINDING'
  | 'ERR_SCOPE_MISSING'
  | 'ERR_ROLE_MISSING'
  | 'ERR_REVOCATIONS_STALE'
  | 'ERR_NOT_READY'
  | 'ERR_INTERNAL';

/** The one error type of authmesh. `message` is short and safe to show: it never contains a token. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for an AuthError from any copy of this package. */
export function isAuthError(err: unknown): err is AuthError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'AuthError' &&
    typeof (err as { code?: unknown }).code === 'string'
  );
}
