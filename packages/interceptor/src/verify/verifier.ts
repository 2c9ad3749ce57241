import type { AccessTokenClaims, ActorClaim, Principal } from '../claims.js';
import { AuthError } from '../errors.js';
import type { KeyStore, VerificationKey } from '../jwks/key-store.types.js';
import { verifyCompactSignature } from './signature.js';

/** What the verifier checks against; validated by the caller (createServerAuth) once. */
export interface VerifierConfig {
  readonly keys: KeyStore;
  /** Exact expected `iss`. */
  readonly issuer: string;
  /** Accepted audiences; `undefined` accepts any (the issuer's own API only). */
  readonly audiences: readonly string[] | undefined;
  readonly algorithms: readonly string[];
  /** Seconds of clock skew tolerated on exp/nbf/iat. */
  readonly clockToleranceSec: number;
  /** Longest token accepted, checked before any parsing. */
  readonly maxTokenBytes: number;
}

/** A token that passed every check, with the key that verified it (caches re-check its presence). */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly key: VerificationKey;
}

/**
 * Verifies a compact JWS access token; rejects with an AuthError only. `now`, when present, is the same
 * check run synchronously: it throws the same AuthErrors and returns undefined only when the key must
 * first be resolved (then call the verifier itself).
 */
export type Verifier = ((token: string, options?: { anyAudience?: boolean }) => Promise<VerifiedToken>) & {
  now?: (token: string, options?: { anyAudience?: boolean }) => VerifiedToken | undefined;
};

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** RFC 8725 §3.10 / RFC 7515 §4.1.2-6: keys named by the token itself are never trusted. */
const KEY_POINTING_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;
const decoder = new TextDecoder('utf-8', { fatal: true });
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/**
 * Distinct checked headers kept: a handful of keys in practice. A forged token's well-formed header
 * takes a slot, never a verdict (the key and signature are checked on every call).
 */
const MAX_CHECKED_HEADERS = 64;

/**
 * RFC 4648 §3.5 / RFC 7515 §2: only the canonical base64url spelling (pad bits zero, no length ≡ 1
 * mod 4). Lenient decoders ignore the pad bits, so without this one signed token has up to 16 spellings
 * that all verify: a different string for the cache, logs and any string-keyed deny list.
 */
function canonicalBase64url(part: string): boolean {
  const rem = part.length % 4;
  if (rem === 0) return true;
  if (rem === 1) return false;
  return (B64URL.indexOf(part[part.length - 1]!) & (rem === 2 ? 0x0f : 0x03)) === 0;
}

function fail(code: AuthError['code'], message: string, cause?: unknown): never {
  throw new AuthError(code, message, cause === undefined ? undefined : { cause });
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(Buffer.from(part, 'base64url')));
  } catch {
    fail('ERR_TOKEN_MALFORMED', `${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('ERR_TOKEN_MALFORMED', `${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function checkHeader(
  header: Record<string, unknown>,
  algorithms: readonly string[],
): { alg: string; kid: string } {
  const { alg, typ, kid } = header;
  // RFC 8725 §3.1: an explicit allowlist; never "none", never what the token asks for.
  if (typeof alg !== 'string' || !algorithms.includes(alg)) fail('ERR_TOKEN_ALG', 'algorithm not allowed');
  // RFC 9068 §4: access tokens carry typ "at+jwt" (the "application/" prefix may be omitted, RFC 7515
  // §4.1.9, compared case-insensitively). This also rejects our revocation events and ID tokens (RFC 8725 §3.11).
  const t = typeof typ === 'string' ? typ.toLowerCase() : '';
  if (t !== 'at+jwt' && t !== 'application/at+jwt') fail('ERR_TOKEN_TYP', 'not an access token');
  for (const name of KEY_POINTING_HEADERS)
    if (name in header) fail('ERR_TOKEN_MALFORMED', 'key-bearing header not allowed');
  // RFC 7515 §4.1.11: we understand no extension, so any "crit" must be rejected.
  if ('crit' in header) fail('ERR_TOKEN_MALFORMED', 'unsupported critical header');
  if ('b64' in header) fail('ERR_TOKEN_MALFORMED', 'unsupported header');
  if (!isString(kid)) fail('ERR_TOKEN_MALFORMED', 'missing kid');
  return { alg, kid };
}

function checkAct(act: unknown, depth: number): act is ActorClaim | undefined {
  if (act === undefined) return true;
  if (depth > 16 || typeof act !== 'object' || act === null) return false;
  const a = act as { sub?: unknown; act?: unknown };
  return isString(a.sub) && checkAct(a.act, depth + 1);
}

function checkClaims(
  c: Record<string, unknown>,
  cfg: VerifierConfig,
  anyAudience: boolean,
): AccessTokenClaims {
  const now = Date.now() / 1000;
  const tol = cfg.clockToleranceSec;
  // RFC 9068 §4 / RFC 7519 §4.1.1: the issuer must match exactly.
  if (c.iss !== cfg.issuer) fail('ERR_TOKEN_ISSUER', 'issuer mismatch');
  // RFC 7519 §4.1.3: reject unless one of the token's audiences is ours.
  const aud = c.aud;
  const auds =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud) && aud.every(isString)
        ? (aud as string[])
        : undefined;
  if (auds === undefined || auds.length === 0) fail('ERR_TOKEN_AUDIENCE', 'missing audience');
  if (!anyAudience && cfg.audiences !== undefined && !auds.some((a) => cfg.audiences!.includes(a))) {
    fail('ERR_TOKEN_AUDIENCE', 'audience not accepted');
  }
  // RFC 7519 §4.1.4 (exp required by RFC 9068 §2.2): now must be before exp.
  if (!isTime(c.exp)) fail('ERR_TOKEN_CLAIMS', 'missing exp');
  if (c.exp <= now - tol) fail('ERR_TOKEN_EXPIRED', 'token expired');
  // RFC 7519 §4.1.5: not before.
  if (c.nbf !== undefined && !isTime(c.nbf)) fail('ERR_TOKEN_CLAIMS', 'bad nbf');
  if (c.nbf !== undefined && c.nbf > now + tol) fail('ERR_TOKEN_NOT_YET_VALID', 'token not yet valid');
  // RFC 9068 §2.2: iat required; one from the future is not valid yet.
  if (!isTime(c.iat)) fail('ERR_TOKEN_CLAIMS', 'missing iat');
  if (c.iat > now + tol) fail('ERR_TOKEN_NOT_YET_VALID', 'token issued in the future');
  if (!isString(c.jti) || !isString(c.sub) || !isString(c.client_id))
    fail('ERR_TOKEN_CLAIMS', 'missing jti, sub or client_id');
  if (c.scope !== undefined && typeof c.scope !== 'string') fail('ERR_TOKEN_CLAIMS', 'bad scope');
  if (c.roles !== undefined && !(Array.isArray(c.roles) && c.roles.every(isString)))
    fail('ERR_TOKEN_CLAIMS', 'bad roles');
  if (c.sid !== undefined && !isString(c.sid)) fail('ERR_TOKEN_CLAIMS', 'bad sid');
  if (!checkAct(c.act, 0)) fail('ERR_TOKEN_CLAIMS', 'bad act');
  return c as AccessTokenClaims;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function toPrincipal(claims: AccessTokenClaims, kid: string, token: string): Principal {
  const aud = typeof claims.aud === 'string' ? [claims.aud] : [...claims.aud];
  return Object.freeze({
    sub: claims.sub,
    clientId: claims.client_id,
    scopes: new Set(claims.scope ? claims.scope.split(' ').filter((s) => s !== '') : []),
    roles: new Set(claims.roles ?? []),
    aud: Object.freeze(aud),
    jti: claims.jti,
    sid: claims.sid,
    act: claims.act,
    iat: claims.iat,
    exp: claims.exp,
    kid,
    token,
    claims: deepFreeze(claims),
  });
}

/**
 * Creates the access-token verifier. Checks run cheapest first and before the signature where they
 * need only the header (size, shape, alg, typ, key-bearing headers, kid); the signature is checked
 * synchronously with node:crypto for the single algorithm the key allows (keys are imported once by
 * jose in the key store); claims are checked here so each failure gets its own AuthError code.
 */
export function createVerifier(cfg: VerifierConfig): Verifier {
  // An issuer's tokens share a few headers (one per signing key): each is decoded and checked once.
  const headers = new Map<string, { alg: string; kid: string }>();
  /** Every check, synchronously; `resolved` is the key `keys.resolve` found (undefined: look it up). */
  const check = (
    token: string,
    options: { anyAudience?: boolean } | undefined,
    resolved?: VerificationKey,
  ): VerifiedToken | string => {
    if (typeof token !== 'string' || token.length > cfg.maxTokenBytes)
      fail('ERR_TOKEN_MALFORMED', 'token too large');
    if (!COMPACT.test(token)) fail('ERR_TOKEN_MALFORMED', 'not a compact JWS');
    const dot = token.indexOf('.');
    const dot2 = token.indexOf('.', dot + 1);
    if (
      !canonicalBase64url(token.slice(0, dot)) ||
      !canonicalBase64url(token.slice(dot + 1, dot2)) ||
      !canonicalBase64url(token.slice(dot2 + 1))
    ) {
      fail('ERR_TOKEN_MALFORMED', 'not canonical base64url');
    }
    const headerPart = token.slice(0, dot);
    let checked = headers.get(headerPart);
    if (checked === undefined) {
      checked = checkHeader(decodeJson(headerPart, 'header'), cfg.algorithms);
      // Kept once its checks passed (the key and signature are checked on every call), by exact text.
      if (headers.size >= MAX_CHECKED_HEADERS) headers.clear();
      headers.set(headerPart, checked);
    }
    const { alg, kid } = checked;
    const key = resolved ?? cfg.keys.get(kid);
    // Not held: the caller resolves it (a JWKS refresh) and checks again with what it found.
    if (key === undefined) return kid;
    // The key's own algorithm must be the one the header names (RFC 8725 §2.1, algorithm confusion).
    if (
      key.alg !== alg &&
      !(key.alg === 'Ed25519' && alg === 'EdDSA') &&
      !(key.alg === 'EdDSA' && alg === 'Ed25519')
    ) {
      fail('ERR_TOKEN_ALG', 'algorithm does not match the key');
    }
    if (!verifyCompactSignature(alg, key.key, token, dot2)) {
      fail('ERR_TOKEN_SIGNATURE', 'signature verification failed');
    }
    const payload = Buffer.from(token.slice(dot + 1, dot2), 'base64url');
    let claimsJson: Record<string, unknown>;
    try {
      claimsJson = JSON.parse(decoder.decode(payload)) as Record<string, unknown>;
    } catch {
      fail('ERR_TOKEN_MALFORMED', 'payload is not JSON');
    }
    if (typeof claimsJson !== 'object' || claimsJson === null || Array.isArray(claimsJson))
      fail('ERR_TOKEN_MALFORMED', 'payload is not a JSON object');
    const claims = checkClaims(claimsJson, cfg, options?.anyAudience === true);
    return { principal: toPrincipal(claims, kid, token), key };
  };
  const verifier: Verifier = async (token, options) => {
    const first = check(token, options);
    if (typeof first !== 'string') return first;
    const key = await cfg.keys.resolve(first);
    if (key === undefined) fail('ERR_KEY_UNKNOWN', 'unknown key id');
    return check(token, options, key) as VerifiedToken;
  };
  // The cold path without a promise per layer: most tokens name a key already held.
  verifier.now = (token, options) => {
    const result = check(token, options);
    return typeof result === 'string' ? undefined : result;
  };
  return verifier;
}
