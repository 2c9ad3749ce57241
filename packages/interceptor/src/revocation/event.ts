import type { KeyObject } from 'node:crypto';
import { CompactSign, decodeProtectedHeader } from 'jose';
import { toLowS } from '../verify/low-s.js';
import { checkEventSignature } from './event-signature-check.js';

import type { KeyStore } from '../jwks/key-store.types.js';
import type { RevocationBatchClaims, RevocationEventClaims, RevocationKind } from './revocation.types.js';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The JWS `typ` of a revocation event: never confusable with an access token's `at+jwt` (RFC 8725 §3.11). */
export const REVOCATION_EVENT_TYP = 'authmesh-revocation+jwt';

/** Algorithms a revocation event may be signed with (an explicit allowlist, RFC 8725 §3.1). */
export const REVOCATION_EVENT_ALGS: readonly string[] = ['EdDSA', 'ES256'];

/** The longest `value` an event may carry (a jti, sid, sub or kid). */
export const MAX_REVOCATION_VALUE_LENGTH = 512;

const KINDS: ReadonlySet<string> = new Set<RevocationKind>(['jti', 'sid', 'sub', 'kid', 'all']);

/** The kinds a batch event (`v: 2`) may carry: `kid` and `all` stay one per event. */
export const BATCH_KINDS: ReadonlySet<string> = new Set<RevocationKind>(['jti', 'sid', 'sub']);

/**
 * Most values one batch event carries. A batch is one signature, one publish and one check per
 * interceptor for all of them: what lets a bulk revocation go past the stream's per-message floor.
 */
export const MAX_BATCH_VALUES = 1000;

/**
 * Largest event an interceptor accepts, bytes of the compact JWS. A single event is well under 2 KiB
 * (value ≤ 512 and reason ≤ 200 characters); a signer fills a batch up to this. Anyone able to
 * publish on NATS could otherwise make parked events hold up to NATS's max payload (1 MiB) each.
 */
export const MAX_REVOCATION_EVENT_BYTES = 16 * 1024;

/** Why an event was refused; `code` is stable, `message` never contains the event or a key. */
export type RevocationEventErrorCode =
  | 'ERR_EVENT_MALFORMED'
  | 'ERR_EVENT_TYP'
  | 'ERR_EVENT_ALG'
  | 'ERR_EVENT_KID'
  | 'ERR_EVENT_SIGNATURE'
  | 'ERR_EVENT_ISSUER'
  | 'ERR_EVENT_CLAIMS';

/** A revocation event that does not verify. Match on `code`. */
export class RevocationEventError extends Error {
  override readonly name = 'RevocationEventError';
  constructor(
    readonly code: RevocationEventErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The signing key of a revocation event (the auth service's current key). */
export interface RevocationSigningKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: KeyObject;
}

/**
 * Checks the shape of event claims; returns them typed or undefined. Used on the verified path and on
 * the replay path (where a bad shape is dropped before anything is stored).
 */
export function parseRevocationClaims(payload: unknown): RevocationEventClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  if (p.v !== 1 || typeof p.kind !== 'string' || !KINDS.has(p.kind)) return undefined;
  if (typeof p.value !== 'string' || p.value.length > MAX_REVOCATION_VALUE_LENGTH) return undefined;
  if (p.kind === 'all' ? p.value !== '' : p.value === '') return undefined;
  if (typeof p.at !== 'number' || !Number.isFinite(p.at) || p.at < 0) return undefined;
  if (typeof p.exp !== 'number' || !Number.isFinite(p.exp) || p.exp < 0) return undefined;
  const reason = p.reason ?? '';
  if (typeof reason !== 'string') return undefined;
  return { v: 1, kind: p.kind as RevocationKind, value: p.value, at: p.at, exp: p.exp, reason };
}

/**
 * Checks the shape of a batch event's claims (`v: 2`); returns them typed or undefined.
 */
export function parseRevocationBatch(payload: unknown): RevocationBatchClaims | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  if (p.v !== 2 || typeof p.kind !== 'string' || !BATCH_KINDS.has(p.kind)) return undefined;
  const values = p.values;
  if (!Array.isArray(values) || values.length === 0 || values.length > MAX_BATCH_VALUES) return undefined;
  for (const v of values) {
    if (typeof v !== 'string' || v === '' || v.length > MAX_REVOCATION_VALUE_LENGTH) return undefined;
  }
  if (typeof p.at !== 'number' || !Number.isFinite(p.at) || p.at < 0) return undefined;
  if (typeof p.exp !== 'number' || !Number.isFinite(p.exp) || p.exp < 0) return undefined;
  const reason = p.reason ?? '';
  if (typeof reason !== 'string') return undefined;
  return { v: 2, kind: p.kind as RevocationBatchClaims['kind'], values, at: p.at, exp: p.exp, reason };
}

/**
 * The revocations an event's payload carries, one claims object per value (a `v: 1` event has one, a
 * `v: 2` batch one per value, each with the batch's kind, instants and reason); undefined when malformed.
 */
export function parseRevocationEvent(payload: unknown): RevocationEventClaims[] | undefined {
  const one = parseRevocationClaims(payload);
  if (one !== undefined) return [one];
  const batch = parseRevocationBatch(payload);
  if (batch === undefined) return undefined;
  const { kind, at, exp, reason } = batch;
  return batch.values.map((value) => ({ v: 1, kind, value, at, exp, reason }));
}

/**
 * Signs a revocation event as a compact JWS with header `{alg, kid, typ: "authmesh-revocation+jwt"}`
 * and payload `claims` plus `iss`.
 *
 * @example
 * const jws = await signRevocationEvent({ v: 1, kind: 'jti', value: jti, at, exp, reason: 'logout' }, keys.current(), issuer);
 */
export async function signRevocationEvent(
  claims: RevocationEventClaims | RevocationBatchClaims,
  key: RevocationSigningKey,
  issuer: string,
): Promise<string> {
  if (parseRevocationEvent(claims) === undefined)
    throw new TypeError('claims are not a valid revocation event');
  if (!REVOCATION_EVENT_ALGS.includes(key.alg))
    throw new TypeError(`key.alg must be one of ${REVOCATION_EVENT_ALGS.join(', ')}`);
  if (typeof key.kid !== 'string' || key.kid === '')
    throw new TypeError('key.kid must be a non-empty string');
  if (typeof issuer !== 'string' || issuer === '') throw new TypeError('issuer must be a non-empty string');
  const payload = new TextEncoder().encode(JSON.stringify({ ...claims, iss: issuer }));
  const jws = await new CompactSign(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: REVOCATION_EVENT_TYP })
    .sign(key.privateKey);
  // Interceptors drop anything larger: refuse to publish what no one would apply.
  if (jws.length > MAX_REVOCATION_EVENT_BYTES)
    throw new RangeError(
      `the signed event is ${jws.length} bytes, over ${MAX_REVOCATION_EVENT_BYTES}: split the batch`,
    );
  if (key.alg !== 'ES256') return jws;
  // Verifiers accept the low-S form only (see verify/low-s.ts).
  const dot = jws.lastIndexOf('.');
  return `${jws.slice(0, dot + 1)}${Buffer.from(toLowS(Buffer.from(jws.slice(dot + 1), 'base64url'))).toString('base64url')}`;
}

/**
 * Verifies a single revocation event (`v: 1`) and returns its claims, or throws a
 * {@link RevocationEventError} (a batch, `v: 2`, too: read those with {@link verifyRevocationEvents}).
 * NATS is the transport, not the trust: only events signed by a key of the issuer's JWKS count.
 * The key is looked up with `keys.resolve`, so an event signed by a freshly rotated key is accepted.
 */
export async function verifyRevocationEvent(
  jws: string,
  keys: KeyStore,
  issuer: string,
): Promise<RevocationEventClaims> {
  const claims = await verifyRevocationEvents(jws, keys, issuer);
  if (claims.length !== 1 || (JSON.parse(payloadText(jws)) as { v?: unknown }).v !== 1) {
    throw new RevocationEventError(
      'ERR_EVENT_CLAIMS',
      'a batch revocation event: use verifyRevocationEvents',
    );
  }
  return claims[0]!;
}

/**
 * Verifies a revocation event, single or batch, and returns one claims object per revoked value (see
 * {@link parseRevocationEvent}), or throws a {@link RevocationEventError}. The checks are those of
 * {@link verifyRevocationEvent}; one signature covers every value of a batch.
 */
export async function verifyRevocationEvents(
  jws: string,
  keys: KeyStore,
  issuer: string,
): Promise<RevocationEventClaims[]> {
  if (jws.length > MAX_REVOCATION_EVENT_BYTES)
    throw new RevocationEventError('ERR_EVENT_MALFORMED', 'revocation event is over its size bound');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (cause) {
    throw new RevocationEventError('ERR_EVENT_MALFORMED', 'revocation event is not a compact JWS', { cause });
  }
  if (header.typ !== REVOCATION_EVENT_TYP) {
    throw new RevocationEventError('ERR_EVENT_TYP', 'revocation event has the wrong typ');
  }
  // RFC 8725 §3.1: the algorithm comes from our allowlist and the key, never from the header alone.
  if (typeof header.alg !== 'string' || !REVOCATION_EVENT_ALGS.includes(header.alg)) {
    throw new RevocationEventError('ERR_EVENT_ALG', 'revocation event alg not allowed');
  }
  if (typeof header.kid !== 'string' || header.kid === '') {
    throw new RevocationEventError('ERR_EVENT_KID', 'revocation event has no kid');
  }
  const key = keys.resolveEventKey ? await keys.resolveEventKey(header.kid) : await keys.resolve(header.kid);
  if (key === undefined)
    throw new RevocationEventError('ERR_EVENT_KID', 'revocation event signed by an unknown key');
  if (key.alg !== header.alg)
    throw new RevocationEventError('ERR_EVENT_ALG', 'revocation event alg does not match its key');
  const dot = jws.indexOf('.');
  const lastDot = jws.lastIndexOf('.');
  // Only the low-S form of an ES256 signature is accepted (../verify/low-s.ts).
  if (!COMPACT_JWS.test(jws) || !(await checkEventSignature(key.alg, key.key, jws, lastDot))) {
    throw new RevocationEventError('ERR_EVENT_SIGNATURE', 'revocation event signature does not verify');
  }
  return readEventClaims(jws, dot, lastDot, issuer);
}

/**
 * The claims of an event this process signed and published itself, WITHOUT a signature check: only for
 * a `jws` the caller knows to be, byte for byte, one it produced (see `trustedEvent` of the feed
 * options). Header and claims are checked as {@link verifyRevocationEvent} checks them.
 */
export function readOwnRevocationEvent(jws: string, issuer: string): RevocationEventClaims[] {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch (cause) {
    throw new RevocationEventError('ERR_EVENT_MALFORMED', 'revocation event is not a compact JWS', { cause });
  }
  if (header.typ !== REVOCATION_EVENT_TYP || !COMPACT_JWS.test(jws)) {
    throw new RevocationEventError('ERR_EVENT_TYP', 'revocation event has the wrong typ');
  }
  return readEventClaims(jws, jws.indexOf('.'), jws.lastIndexOf('.'), issuer);
}

function payloadText(jws: string): string {
  return new TextDecoder().decode(
    Buffer.from(jws.slice(jws.indexOf('.') + 1, jws.lastIndexOf('.')), 'base64url'),
  );
}

function readEventClaims(jws: string, dot: number, lastDot: number, issuer: string): RevocationEventClaims[] {
  const payload = Buffer.from(jws.slice(dot + 1, lastDot), 'base64url');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload));
  } catch (cause) {
    throw new RevocationEventError('ERR_EVENT_MALFORMED', 'revocation event payload is not JSON', { cause });
  }
  if ((parsed as { iss?: unknown }).iss !== issuer) {
    throw new RevocationEventError('ERR_EVENT_ISSUER', 'revocation event from another issuer');
  }
  const claims = parseRevocationEvent(parsed);
  if (claims === undefined)
    throw new RevocationEventError('ERR_EVENT_CLAIMS', 'revocation event claims are invalid');
  return claims;
}

/**
 * Reads an event's claims WITHOUT verifying the signature (the replay path: the entry is stored as
 * pending and verified before it may decide anything for certain). Undefined when malformed.
 */
export function peekRevocationClaims(data: Uint8Array): RevocationEventClaims | undefined {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const a = buf.indexOf(46); // '.'
  if (a < 0) return undefined;
  const b = buf.indexOf(46, a + 1);
  if (b < 0 || buf.indexOf(46, b + 1) >= 0) return undefined;
  try {
    return parseRevocationClaims(
      JSON.parse(Buffer.from(buf.toString('latin1', a + 1, b), 'base64url').toString()),
    );
  } catch {
    return undefined;
  }
}

const VALUE_KEY = Buffer.from('"value":"');
/** Scratch space for decoding payloads on the replay path (single-threaded, never escapes this module). */
const scratch = Buffer.allocUnsafe(4096);

/**
 * The replay fast path: the `value` claim of an event WITHOUT verifying it, decoding into a reused
 * buffer and scanning for the `"value":"` key instead of building the whole claims object (~5x faster
 * than {@link peekRevocationClaims}; what makes a 100k-event replay fit in well under a second).
 * The key sequence cannot occur inside a JSON string (its quotes would be escaped), so a match is the
 * key itself. Anything unusual (escapes, whitespace, a long payload) falls back to the full parse.
 * The result decides nothing on its own: the entry stays pending until its signed event is checked.
 */
export function peekRevocationValue(data: Uint8Array): string | undefined {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const a = buf.indexOf(46); // '.'
  const b = a < 0 ? -1 : buf.indexOf(46, a + 1);
  if (b < 0) return undefined;
  if ((b - a - 1) * 0.75 + 4 <= scratch.length) {
    const n = scratch.write(buf.toString('latin1', a + 1, b), 0, 'base64url');
    const i = scratch.indexOf(VALUE_KEY);
    if (i >= 0 && i < n) {
      const start = i + VALUE_KEY.length;
      const end = scratch.indexOf(34, start); // closing '"'
      const esc = scratch.indexOf(92, start); // '\'
      if (end > start && end < n && end - start <= MAX_REVOCATION_VALUE_LENGTH && (esc < 0 || esc > end)) {
        return scratch.toString('utf8', start, end);
      }
    }
  }
  return peekRevocationClaims(data)?.value || undefined;
}

/**
 * {@link peekRevocationValue} for an event that may be a batch: the values it names, unverified
 * (a single event's one value through the fast path). Undefined when malformed.
 */
export function peekRevocationValues(data: Uint8Array): string[] | undefined {
  if (data.byteLength > MAX_REVOCATION_EVENT_BYTES) return undefined;
  const one = peekRevocationValue(data);
  if (one !== undefined) return [one];
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const a = buf.indexOf(46); // '.'
  const b = a < 0 ? -1 : buf.indexOf(46, a + 1);
  if (b < 0 || buf.indexOf(46, b + 1) >= 0) return undefined;
  try {
    return parseRevocationBatch(
      JSON.parse(Buffer.from(buf.toString('latin1', a + 1, b), 'base64url').toString()),
    )?.values;
  } catch {
    return undefined;
  }
}
