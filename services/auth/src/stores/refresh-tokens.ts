import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of randomness in a refresh token (256 bits, DESIGN.md "Access tokens"). */
const REFRESH_TOKEN_BYTES = 32;

/**
 * A refresh token is base64url, no dots: 43 characters (a chain token: 32 random or derived bytes, one
 * KV record per token) or 64 (a family token, see {@link familyToken}). An access token (a JWS with two
 * dots, hundreds of characters) has neither shape, so neither kind is mistaken for the other (DESIGN.md).
 */
const REFRESH_TOKEN_SHAPE = /^(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{64})$/;

/** Length of a chain token (the format before family tokens; those sessions keep it until they end). */
export const CHAIN_TOKEN_LENGTH = 43;

/** A new opaque chain token (tests make sessions of the earlier format with it). */
export function newRefreshToken(): string {
  return randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
}

/** True when `value` has the shape of a refresh token of either format. */
export function isRefreshTokenShape(value: string): boolean {
  return REFRESH_TOKEN_SHAPE.test(value);
}

/** Bytes of a family token: the session id (12), the generation (4, big-endian), the MAC (32). */
const SID_BYTES = 12;
const FAMILY_TOKEN_BYTES = SID_BYTES + 4 + 32;
const FAMILY_DOMAIN = Buffer.from('authmesh refresh family v2\0');

function familyMac(key: Uint8Array, head: Uint8Array): Buffer {
  return createHmac('sha256', key).update(FAMILY_DOMAIN).update(head).digest();
}

/**
 * The refresh token of generation `gen` of session `sid` (a 16-character sid): the sid, the generation
 * and an HMAC-SHA-256 of both under `key` (derived from the KEK), 64 base64url characters. Nothing about
 * the token is stored: the session record holds the current generation, so a rotation is one
 * compare-and-set on that record, a retry of the last rotation is the same computation, and a
 * presented older generation is recognised as reuse without a record per token. Unpredictable without
 * the key, so knowing a sid (it rides in every access token) never yields a token.
 */
export function familyToken(key: Uint8Array, sid: string, gen: number): string {
  const out = Buffer.allocUnsafe(FAMILY_TOKEN_BYTES);
  if (out.write(sid, 0, SID_BYTES, 'base64url') !== SID_BYTES || sid.length !== 16)
    throw new TypeError('familyToken: sid must be 16 base64url characters (12 bytes)');
  out.writeUInt32BE(gen, SID_BYTES);
  familyMac(key, out.subarray(0, SID_BYTES + 4)).copy(out, SID_BYTES + 4);
  return out.toString('base64url');
}

/**
 * The session and generation of a family token whose MAC checks under `key` (compared in constant
 * time), or undefined: a forged or altered token is refused before any read.
 */
export function parseFamilyToken(key: Uint8Array, token: string): { sid: string; gen: number } | undefined {
  if (token.length !== 64 || !REFRESH_TOKEN_SHAPE.test(token)) return undefined;
  const raw = Buffer.from(token, 'base64url');
  if (raw.length !== FAMILY_TOKEN_BYTES) return undefined;
  const head = raw.subarray(0, SID_BYTES + 4);
  if (!timingSafeEqual(familyMac(key, head), raw.subarray(SID_BYTES + 4))) return undefined;
  return { sid: raw.toString('base64url', 0, SID_BYTES), gen: raw.readUInt32BE(SID_BYTES) };
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
