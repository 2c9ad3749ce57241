import { randomFillSync, sign } from 'node:crypto';
import { toLowS } from '@authmesh/interceptor';
import type { KeyManager, SigningKey } from '../keys/key-manager.types.js';
import type { MintRequest, MintedToken, TokenMinter } from './minter.types.js';

/** Options of `createTokenMinter`. */
export interface MinterOptions {
  /** `iss` of every token. */
  issuer: string;
  /** Default and maximum lifetime, seconds (retired keys are kept exactly this long plus skew). */
  accessTtlSec: number;
  keys: Pick<KeyManager, 'current'>;
  /** Clock, unix ms (tests). */
  now?: () => number;
  /**
   * The latest `sub`/`all` revocation instant covering a subject (unix s, -1 for none): a token gets an
   * `iat` after it, so a login in the same second as a revocation is not born revoked (./revoked-through.ts).
   */
  iatFloor?: (sub: string) => number;
}

/**
 * Signs RFC 9068 access tokens with node:crypto directly (about twice jose's SignJWT rate for EdDSA): the
 * protected header is serialized once per key, the claims once per token, the signature computed on the
 * thread pool.
 */
export function createTokenMinter(options: MinterOptions): TokenMinter {
  if (typeof options?.issuer !== 'string' || options.issuer === '')
    throw new TypeError('minter: issuer must be a non-empty string');
  if (!Number.isInteger(options.accessTtlSec) || options.accessTtlSec <= 0) {
    throw new TypeError('minter: accessTtlSec must be a positive whole number');
  }
  if (typeof options.keys?.current !== 'function') throw new TypeError('minter: keys must be a KeyManager');
  if (options.iatFloor !== undefined && typeof options.iatFloor !== 'function')
    throw new TypeError('minter: iatFloor must be a function');
  const { issuer, accessTtlSec, keys, iatFloor } = options;
  const now = options.now ?? Date.now;
  let headerKey: SigningKey | undefined;
  let header = '';

  return {
    async mint(req: MintRequest): Promise<MintedToken> {
      check(req, accessTtlSec);
      const key = keys.current();
      if (key !== headerKey) {
        // RFC 9068 §2.1: typ "at+jwt" tells access tokens apart from other JWTs (RFC 8725 §3.11).
        header = b64(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'at+jwt' }));
        headerKey = key;
      }
      let iat = Math.floor(now() / 1000);
      const floor = iatFloor?.(req.sub) ?? -1;
      if (floor >= iat) iat = floor + 1;
      const exp = iat + (req.ttlSec ?? accessTtlSec);
      // 128 random bits: unguessable and unique without coordination between replicas (RFC 7519 §4.1.7).
      const jti = nextJti();
      // Every byte here is carried (and Huffman-decoded) on every call to every service, so claims that
      // say nothing are left out: `nbf` would equal `iat` (RFC 9068 does not require it, and validators
      // treat a missing nbf as no restriction), an empty `scope` or `roles` grants nothing.
      const claims: Record<string, unknown> = {
        iss: issuer,
        sub: req.sub,
        aud: req.aud.length === 1 ? req.aud[0] : req.aud,
        exp,
        iat,
        jti,
        client_id: req.clientId,
      };
      if (req.scope.length > 0) claims.scope = req.scope.join(' ');
      if (req.roles.length > 0) claims.roles = req.roles;
      if (req.sid !== undefined) claims.sid = req.sid;
      if (req.act !== undefined) claims.act = req.act;
      if (req.certThumbprint !== undefined) claims.cnf = { 'x5t#S256': req.certThumbprint };
      const input = `${header}.${b64(JSON.stringify(claims))}`;
      const data = Buffer.from(input, 'latin1');
      const sig = await signAsync(key, data);
      return { token: `${input}.${sig.toString('base64url')}`, jti, iat, exp, kid: key.kid };
    },
  };
}

/**
 * Signs on libuv's thread pool (node:crypto with a callback): the event loop keeps serving gRPC while
 * signatures run on other cores, which raises the service's issuance ceiling.
 */
function signAsync(key: SigningKey, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, sig: Buffer): void => (err ? reject(err) : resolve(sig));
    if (key.alg === 'EdDSA') sign(null, data, key.privateKey, done);
    // RFC 7518 §3.4: ES256 signatures are R || S (IEEE P1363), not DER; in the low-S form, the only one
    // verifiers accept (node:crypto gives s > n/2 about half the time).
    else
      sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' }, (err, sig) =>
        err ? reject(err) : resolve(Buffer.from(toLowS(sig))),
      );
  });
}

// One CSPRNG call per 256 ids instead of one per token; every 16-byte slice is handed out exactly once.
const JTI_BYTES = 16;
const pool = Buffer.alloc(JTI_BYTES * 256);
let poolOffset = pool.length;

function nextJti(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const jti = pool.toString('base64url', poolOffset, poolOffset + JTI_BYTES);
  poolOffset += JTI_BYTES;
  return jti;
}

function b64(json: string): string {
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** Programmer errors of the caller (the grants code), not of the client: a TypeError naming the field. */
function check(req: MintRequest, maxTtl: number): void {
  if (typeof req?.sub !== 'string' || req.sub === '')
    throw new TypeError('mint: sub must be a non-empty string');
  if (typeof req.clientId !== 'string' || req.clientId === '')
    throw new TypeError('mint: clientId must be a non-empty string');
  if (
    !Array.isArray(req.aud) ||
    req.aud.length === 0 ||
    !req.aud.every((a) => typeof a === 'string' && a !== '')
  ) {
    throw new TypeError('mint: aud must be a non-empty array of non-empty strings');
  }
  if (
    !Array.isArray(req.scope) ||
    !req.scope.every((s) => typeof s === 'string' && s !== '' && !/\s/.test(s))
  ) {
    throw new TypeError('mint: scope must be an array of scope tokens without spaces');
  }
  if (!Array.isArray(req.roles) || !req.roles.every((r) => typeof r === 'string'))
    throw new TypeError('mint: roles must be strings');
  if (req.ttlSec !== undefined && (!Number.isInteger(req.ttlSec) || req.ttlSec <= 0 || req.ttlSec > maxTtl)) {
    throw new TypeError(`mint: ttlSec must be a whole number in 1..${maxTtl} (the access TTL)`);
  }
}
