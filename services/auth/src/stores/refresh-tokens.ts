import { createHash, createHmac, randomBytes } from 'node:crypto';

/** Bytes of randomness in a refresh token (256 bits, DESIGN.md "Access tokens"). */
const REFRESH_TOKEN_BYTES = 32;

/** A refresh token is exactly this: base64url of 32 bytes, 43 characters, no dots. */
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** A new opaque refresh token. */
export function newRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/**
 * True when `value` has the shape of a refresh token. An access token (a JWS with two dots, hundreds
 * of characters) never has it, so neither kind can be mistaken for the other (DESIGN.md).
 */
export function isRefreshTokenShape(value: string): boolean {
  return REFRESH_TOKEN_SHAPE.test(value);
}

/** The KV key of a refresh token: its SHA-256, base64url. The token itself is never stored. */
export function refreshTokenKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * The successor of a refresh token: HMAC-SHA-256 of the token under `key` (derived from the KEK), in the
 * shape of a refresh token. Deterministic, so a rotation whose answer was lost hands out the same
 * successor again, and concurrent rotations of one token agree on it, without the successor ever being
 * stored; unpredictable without the key, so holding a token never reveals its successor.
 */
export function successorToken(key: Uint8Array, token: string): string {
  return createHmac('sha256', key)
    .update('authmesh refresh successor v1\0')
    .update(token, 'utf8')
    .digest('base64url');
}

/** Random bytes in a session id (see newSessionId). */
const SESSION_ID_BYTES = 12;

/**
 * A new session id: 96 random bits, 16 base64url characters. The sid rides in every access token of
 * the session, paid on every call; it is a name, not a credential (revoking a session takes the
 * admin scope or the session's own subject), so it only has to be unique: 96 bits make a chance
 * collision among a billion sessions about 1 in 10^11, and the session's create fails rather than
 * overwrite. Sessions started with the earlier 128-bit (22-character) ids keep working: nothing
 * reads a sid's length.
 */
export function newSessionId(): string {
  return randomBytes(SESSION_ID_BYTES).toString('base64url');
}
